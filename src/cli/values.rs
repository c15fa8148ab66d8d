//! The flag values of the chapter's enums: clap's `ValueEnum` for `--activation`, `--loss`,
//! `--init`, `--task` and `--precision`, built from their `ALL`/`NAMES` so that math and data
//! need no clap.
//!
//! Each value's help is its variant's doc comment. clap's derive would read the doc comments
//! itself, but only on the type it derives for, which would put clap back into math, data and
//! train; so the help is written here once more and a test keeps the two texts equal.

use clap::builder::PossibleValue;
use clap::ValueEnum;

use crate::data::prep::Task;
use crate::train::options::Precision;
use crate::{Activation, Init, Loss};

impl ValueEnum for Activation {
    fn value_variants<'a>() -> &'a [Self] {
        &Activation::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let help = match self {
            Activation::Relu => {
                "max(0, z); φ'(0) = 0 (the kink belongs to the flat side, as in PyTorch)"
            }
            Activation::Sigmoid => "1 / (1 + e^(−z))",
            Activation::Tanh => "tanh z",
            Activation::Identity => "z (the network is then linear; useful for checking)",
        };
        Some(PossibleValue::new(self.name()).help(help))
    }
}

impl ValueEnum for Loss {
    fn value_variants<'a>() -> &'a [Self] {
        &Loss::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let help = match self {
            Loss::SoftmaxCe => {
                "ℓ(o, y) = −log softmax(o)[y]: classification, y a class index. The softmax lives \
                 inside the loss; o are the logits"
            }
            Loss::HalfSquared => {
                "ℓ(o, y) = ½‖o − y‖²: regression with q real targets (for classes, y is one-hot)"
            }
        };
        let i = Loss::ALL.iter().position(|l| l == self)?;
        let aliases = Loss::ALIASES
            .iter()
            .filter(|(_, l)| l == self)
            .map(|(n, _)| *n);
        Some(
            PossibleValue::new(Loss::NAMES[i])
                .help(help)
                .aliases(aliases),
        )
    }
}

impl ValueEnum for Init {
    fn value_variants<'a>() -> &'a [Self] {
        &Init::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let help = match self {
            Init::Xavier => {
                "Xavier/Glorot uniform: U(±√(6/(fan_in + fan_out))). Suits tanh and sigmoid"
            }
            Init::He => "He (Kaiming) uniform: U(±√(6/fan_in)). Suits ReLU",
        };
        Some(PossibleValue::new(self.name()).help(help))
    }
}

impl ValueEnum for Task {
    fn value_variants<'a>() -> &'a [Self] {
        &Task::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let help = match self {
            Task::Classify => "Predict one of q classes (softmax cross-entropy)",
            Task::Regress => "Predict q real targets (half squared error)",
        };
        Some(PossibleValue::new(self.name()).help(help))
    }
}

impl ValueEnum for Precision {
    fn value_variants<'a>() -> &'a [Self] {
        &Precision::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let help = match self {
            Precision::F32 => "32-bit floats: half the memory, about twice the speed",
            Precision::F64 => "64-bit floats: for checking against references",
        };
        Some(PossibleValue::new(self.name()).help(help))
    }
}

impl ValueEnum for crate::data::encode::Impute {
    fn value_variants<'a>() -> &'a [Self] {
        &crate::data::encode::Impute::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        use crate::data::encode::Impute;
        let help = match self {
            Impute::Mean => "The mean of the column's values in the training rows",
            Impute::Median => "Their median (the mean of the two middle ones for an even count)",
            Impute::Zero => "0",
        };
        Some(PossibleValue::new(self.name()).help(help))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The flag names and the library's `FromStr` agree, aliases included.
    #[test]
    fn every_possible_value_parses_back() {
        fn check<E: ValueEnum + std::str::FromStr + PartialEq + std::fmt::Debug>() {
            for v in E::value_variants() {
                let p = v.to_possible_value().unwrap();
                for name in p.get_name_and_aliases() {
                    assert_eq!(name.parse::<E>().ok().as_ref(), Some(v), "{name}");
                }
            }
            assert!("nope".parse::<E>().is_err());
        }
        check::<Activation>();
        check::<Loss>();
        check::<Init>();
        check::<Task>();
        check::<Precision>();
    }

    /// The doc comment above `variant,` in `enum_name`'s declaration in `source`, its lines
    /// joined, without the final period.
    fn variant_doc(source: &str, enum_name: &str, variant: &str) -> String {
        let lines: Vec<&str> = source.lines().collect();
        let start = lines
            .iter()
            .position(|l| l.starts_with(&format!("pub enum {enum_name} ")))
            .unwrap_or_else(|| panic!("enum {enum_name} not found"));
        let at = start
            + lines[start..]
                .iter()
                .position(|l| l.trim() == format!("{variant},"))
                .unwrap_or_else(|| panic!("{enum_name}::{variant} not found"));
        let mut doc: Vec<&str> = lines[start..at]
            .iter()
            .rev()
            .map_while(|l| l.trim().strip_prefix("///"))
            .map(str::trim)
            .collect();
        doc.reverse();
        doc.join(" ").trim_end_matches('.').to_string()
    }

    /// `--help` says of each value what its variant's doc comment says.
    #[test]
    fn each_values_help_is_its_variants_doc_comment() {
        fn check<E: ValueEnum + std::fmt::Debug>(name: &str, source: &str) {
            for v in E::value_variants() {
                let p = v.to_possible_value().unwrap();
                let help = p.get_help().map(|h| h.to_string()).unwrap_or_default();
                let doc = variant_doc(source, name, &format!("{v:?}"));
                assert_eq!(
                    help, doc,
                    "{name}::{v:?}: --help and the doc comment differ"
                );
            }
        }
        check::<Activation>("Activation", include_str!("../math/activation.rs"));
        check::<Loss>("Loss", include_str!("../math/loss.rs"));
        check::<Init>("Init", include_str!("../math/model.rs"));
        check::<Task>("Task", include_str!("../data/prep.rs"));
        check::<Precision>("Precision", include_str!("../train/options.rs"));
    }
}
