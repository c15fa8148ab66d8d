//! A sweep's axes: `--grid NAME=VALUES` parsed into the values each point passes after
//! `--NAME`, the grid as their product, or N points drawn at random (`--samples N`).

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::{Error, Result};

/// How an axis's values were given: they decide how a random draw picks one.
#[derive(Clone, Debug, PartialEq)]
pub enum Spread {
    /// `a,b,c`, or a range of whole steps (`0..4`, `16..128:x2`, `16..64:+16`): a draw picks
    /// one of the values.
    Listed,
    /// `a..b:N`: a draw is uniform in [a, b] (whole numbers when a and b are).
    Linear { from: f64, to: f64, whole: bool },
    /// `a..b:logN`: a draw is log-uniform in [a, b] (whole numbers when a and b are).
    Log { from: f64, to: f64, whole: bool },
}

/// One axis: the flag (without dashes) and its values as typed after the flag.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    pub name: String,
    pub values: Vec<String>,
    pub spread: Spread,
}

/// The most points a grid or `--samples` may have.
pub const MAX_POINTS: usize = 100_000;

/// Parses `NAME=VALUES`: a list `a,b,c`, or a range `a..b` (whole numbers, step 1),
/// `a..b:N` (N evenly spaced), `a..b:logN` (N log-spaced, a, b > 0), `a..b:xK` (a, a·K, …
/// up to b) or `a..b:+K` (a, a+K, … up to b).
pub fn parse(spec: &str) -> Result<Axis> {
    let bad = |msg: String| Error::Sweep {
        what: format!("--grid {spec}"),
        msg,
    };
    let Some((name, values)) = spec.split_once('=') else {
        return Err(bad(
            "wants NAME=VALUES, e.g. `lr=0.01,0.1` or `lr=1e-3..1e-1:log5`".into(),
        ));
    };
    let name = name.trim().trim_start_matches("--").to_string();
    if name.is_empty() {
        return Err(bad("names no flag before `=`".into()));
    }
    if values.contains(',') || !values.contains("..") {
        let values: Vec<String> = values.split(',').map(|v| v.trim().to_string()).collect();
        if values.iter().any(String::is_empty) {
            return Err(bad("has an empty value".into()));
        }
        return Ok(Axis {
            name,
            values,
            spread: Spread::Listed,
        });
    }
    let (range, step) = match values.split_once(':') {
        Some((r, s)) => (r, Some(s.trim())),
        None => (values, None),
    };
    let (a, b) = range.split_once("..").unwrap_or((range, ""));
    let num = |t: &str| {
        t.trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| bad(format!("`{}` is not a number", t.trim())))
    };
    let (from, to) = (num(a)?, num(b)?);
    if from > to {
        return Err(bad(format!("runs backwards ({from} > {to})")));
    }
    let whole = is_whole(a) && is_whole(b);
    let count = |n: &str| match n.parse::<usize>() {
        Ok(n) if (1..=MAX_POINTS).contains(&n) => Ok(n),
        _ => Err(bad(format!(
            "wants a count of values from 1 to {MAX_POINTS}, got `{n}`"
        ))),
    };
    let listed = |values: Vec<f64>| {
        if values.len() > MAX_POINTS {
            return Err(bad(format!("has more than {MAX_POINTS} values")));
        }
        Ok(Axis {
            name: name.clone(),
            values: values.into_iter().map(|v| shown(v, whole)).collect(),
            spread: Spread::Listed,
        })
    };
    match step {
        None if whole => listed(stepped(from, to, |v| v + 1.0)),
        None => Err(bad(
            "a range of decimals needs a count: `a..b:N` or `a..b:logN`".into(),
        )),
        Some(s) if s.starts_with("log") => {
            let n = count(&s[3..])?;
            if from <= 0.0 {
                return Err(bad("a log range needs bounds > 0".into()));
            }
            let (la, lb) = (from.ln(), to.ln());
            let values = spaced(n, |t| (la + t * (lb - la)).exp(), from, to);
            Ok(Axis {
                name,
                values: dedup(values.into_iter().map(|v| shown(v, whole)).collect()),
                spread: Spread::Log { from, to, whole },
            })
        }
        Some(s) if s.starts_with('x') => {
            let k = num(&s[1..])?;
            if k <= 1.0 || from <= 0.0 {
                return Err(bad("`:xK` needs K > 1 and a start > 0".into()));
            }
            listed(stepped(from, to, |v| v * k))
        }
        Some(s) if s.starts_with('+') => {
            let k = num(&s[1..])?;
            if k <= 0.0 {
                return Err(bad("`:+K` needs K > 0".into()));
            }
            listed(stepped(from, to, |v| v + k))
        }
        Some(s) => {
            let n = count(s)?;
            let values = spaced(n, |t| from + t * (to - from), from, to);
            Ok(Axis {
                name,
                values: dedup(values.into_iter().map(|v| shown(v, whole)).collect()),
                spread: Spread::Linear { from, to, whole },
            })
        }
    }
}

/// True for a bound typed as a whole number (`16`, `-3`), not `1e2` or `0.5`.
fn is_whole(t: &str) -> bool {
    let t = t.trim().trim_start_matches('-');
    !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit())
}

/// `from`, next(from), … while ≤ `to` (with a little slack for rounding), at most
/// MAX_POINTS + 1 values.
fn stepped(from: f64, to: f64, next: impl Fn(f64) -> f64) -> Vec<f64> {
    let mut out = Vec::new();
    let mut v = from;
    while v <= to * (1.0 + 1e-12) + 1e-12 && out.len() <= MAX_POINTS {
        out.push(v);
        v = next(v);
    }
    out
}

/// n values at = at(i/(n−1)), the ends exact.
fn spaced(n: usize, at: impl Fn(f64) -> f64, from: f64, to: f64) -> Vec<f64> {
    if n == 1 {
        return vec![from];
    }
    (0..n)
        .map(|i| match i {
            0 => from,
            i if i == n - 1 => to,
            i => at(i as f64 / (n - 1) as f64),
        })
        .collect()
}

fn dedup(mut v: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    v.retain(|x| seen.insert(x.clone()));
    v
}

/// A value as it is typed after its flag: whole numbers as integers; others rounded to 4
/// significant digits, in the shortest form that reads back as that (`0.003162`, `1e-6`).
pub fn shown(v: f64, whole: bool) -> String {
    if whole {
        return format!("{}", v.round() as i64);
    }
    let r: f64 = format!("{v:.3e}").parse().unwrap_or(v);
    if r == 0.0 || (1e-4..1e6).contains(&r.abs()) {
        format!("{r}")
    } else {
        format!("{r:e}")
    }
}

/// Every combination of the axes' values, the first axis varying slowest.
pub fn grid(axes: &[Axis]) -> Result<Vec<Vec<String>>> {
    let total = axes
        .iter()
        .try_fold(1usize, |n, a| n.checked_mul(a.values.len()))
        .filter(|&n| n <= MAX_POINTS);
    if total.is_none() {
        return Err(Error::Sweep {
            what: "--grid".into(),
            msg: format!("has more than {MAX_POINTS} points; draw some with --samples N"),
        });
    }
    let mut points: Vec<Vec<String>> = vec![Vec::new()];
    for a in axes {
        points = points
            .into_iter()
            .flat_map(|p| {
                a.values.iter().map(move |v| {
                    let mut q = p.clone();
                    q.push(v.clone());
                    q
                })
            })
            .collect();
    }
    Ok(points)
}

/// `n` points drawn at random with `seed`: each axis independently, uniform over a list,
/// uniform in a linear range, log-uniform in a log range. The same seed, the same points.
pub fn samples(axes: &[Axis], n: usize, seed: u64) -> Result<Vec<Vec<String>>> {
    if n == 0 || n > MAX_POINTS {
        return Err(Error::flag(
            "--samples",
            format!("must be between 1 and {MAX_POINTS}"),
            n,
        ));
    }
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    Ok((0..n)
        .map(|_| {
            axes.iter()
                .map(|a| match a.spread {
                    Spread::Listed => a.values[rng.random_range(0..a.values.len())].clone(),
                    Spread::Linear { from, to, whole } => {
                        shown(from + rng.random::<f64>() * (to - from), whole)
                    }
                    Spread::Log { from, to, whole } => {
                        let (la, lb) = (from.ln(), to.ln());
                        shown((la + rng.random::<f64>() * (lb - la)).exp(), whole)
                    }
                })
                .collect()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(spec: &str) -> Vec<String> {
        parse(spec).unwrap().values
    }

    #[test]
    fn lists_and_ranges_give_the_values_as_typed() {
        assert_eq!(values("lambda=0,1e-4,1e-3"), ["0", "1e-4", "1e-3"]);
        assert_eq!(values("--seed=0..4"), ["0", "1", "2", "3", "4"]);
        assert_eq!(values("hidden=16..128:x2"), ["16", "32", "64", "128"]);
        assert_eq!(values("hidden=16..64:+16"), ["16", "32", "48", "64"]);
        assert_eq!(
            values("lr=1e-3..1e-1:log5"),
            ["0.001", "0.003162", "0.01", "0.03162", "0.1"]
        );
        assert_eq!(values("momentum=0..0.9:4"), ["0", "0.3", "0.6", "0.9"]);
        assert_eq!(values("lambda=1e-8..1e-6:log3"), ["1e-8", "1e-7", "1e-6"]);
        assert_eq!(parse("activation=relu,tanh").unwrap().name, "activation");
    }

    #[test]
    fn malformed_axes_are_refused_with_the_spec() {
        for spec in [
            "lr",
            "=1",
            "lr=",
            "lr=1,,2",
            "lr=0.5..1",
            "lr=1..0:3",
            "lr=0..1:log3",
            "lr=a..b:3",
            "lr=1..2:0",
            "h=1..8:x1",
        ] {
            let e = parse(spec).unwrap_err().to_string();
            assert!(e.starts_with(&format!("--grid {spec}: ")), "{e}");
        }
    }

    #[test]
    fn the_grid_is_the_product_first_axis_slowest() {
        let axes = [parse("a=1,2").unwrap(), parse("b=x,y,z").unwrap()];
        let g = grid(&axes).unwrap();
        assert_eq!(g.len(), 6);
        assert_eq!(g[0], ["1", "x"]);
        assert_eq!(g[1], ["1", "y"]);
        assert_eq!(g[5], ["2", "z"]);
        let big = [parse("a=0..999").unwrap(), parse("b=0..999").unwrap()];
        assert!(grid(&big).is_err());
    }

    #[test]
    fn samples_are_seeded_and_log_uniform_within_bounds() {
        let axes = [
            parse("lr=1e-4..1e-1:log4").unwrap(),
            parse("hidden=8..512:log2").unwrap(),
            parse("activation=relu,tanh").unwrap(),
        ];
        let a = samples(&axes, 400, 7).unwrap();
        assert_eq!(a, samples(&axes, 400, 7).unwrap());
        assert_ne!(a, samples(&axes, 400, 8).unwrap());
        let lrs: Vec<f64> = a.iter().map(|p| p[0].parse().unwrap()).collect();
        assert!(lrs.iter().all(|&v| (1e-4..=1e-1).contains(&v)));
        // Log-uniform: about a third of the draws in each decade.
        let low = lrs.iter().filter(|&&v| v < 1e-3).count();
        assert!((90..180).contains(&low), "{low} of 400 below 1e-3");
        assert!(
            a.iter().all(|p| p[1].parse::<u32>().is_ok()),
            "whole hidden"
        );
        assert!(a.iter().any(|p| p[2] == "tanh") && a.iter().any(|p| p[2] == "relu"));
    }
}
