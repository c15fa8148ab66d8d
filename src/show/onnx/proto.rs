//! The protobuf wire format, only what an ONNX file needs: varints, length-delimited fields
//! and little-endian raw numbers, plus ONNX's few messages by their field numbers (onnx.proto).

/// One message being written: its fields' bytes in order. A nested message is written into
/// its parent whole, as a length-delimited field.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Msg(Vec<u8>);

/// Wire types (protobuf encoding guide): 0 varint, 2 length-delimited.
const VARINT: u64 = 0;
const LEN: u64 = 2;

impl Msg {
    pub fn new() -> Self {
        Msg(Vec::new())
    }

    /// The encoded bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    /// An unsigned varint: 7 bits per byte, least significant first, the high bit set on
    /// every byte but the last.
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8 & 0x7f) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }

    fn key(&mut self, field: u32, wire: u64) {
        self.varint((u64::from(field) << 3) | wire);
    }

    /// An int32/int64/enum field (a negative number takes ten bytes, as protobuf says).
    pub fn int(mut self, field: u32, v: i64) -> Self {
        self.key(field, VARINT);
        self.varint(v as u64);
        self
    }

    /// A bytes field.
    pub fn bytes(mut self, field: u32, b: &[u8]) -> Self {
        self.key(field, LEN);
        self.varint(b.len() as u64);
        self.0.extend_from_slice(b);
        self
    }

    /// A string field (UTF-8, as Rust strings are).
    pub fn str(self, field: u32, s: &str) -> Self {
        self.bytes(field, s.as_bytes())
    }

    /// A nested message field.
    pub fn msg(self, field: u32, m: &Msg) -> Self {
        self.bytes(field, &m.0)
    }

    /// One nested message per item of a repeated field.
    pub fn msgs<'a>(self, field: u32, ms: impl IntoIterator<Item = &'a Msg>) -> Self {
        ms.into_iter().fold(self, |s, m| s.msg(field, m))
    }
}

/// TensorProto.DataType values used here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataType {
    Float = 1,
    String = 8,
    Double = 11,
}

/// A tensor's numbers, in the element type they are stored as.
pub enum Values<'a> {
    /// Stored as FLOAT (each f64 rounded to f32: exact for an f32 model's weights).
    F32(&'a [f64]),
    /// Stored as DOUBLE.
    F64(&'a [f64]),
    /// Stored as STRING (UTF-8 bytes).
    Strings(&'a [String]),
}

/// TensorProto: `name`, `dims`, `data_type` and the values (raw little-endian bytes for
/// numbers, `string_data` for strings).
pub fn tensor(name: &str, dims: &[usize], values: Values) -> Msg {
    // TensorProto: dims = 1, data_type = 2, string_data = 6, name = 8, raw_data = 9.
    let m = dims.iter().fold(Msg::new(), |m, &d| m.int(1, d as i64));
    let m = match values {
        Values::F32(v) => {
            let raw: Vec<u8> = v.iter().flat_map(|&x| (x as f32).to_le_bytes()).collect();
            m.int(2, DataType::Float as i64).str(8, name).bytes(9, &raw)
        }
        Values::F64(v) => {
            let raw: Vec<u8> = v.iter().flat_map(|&x| x.to_le_bytes()).collect();
            m.int(2, DataType::Double as i64)
                .str(8, name)
                .bytes(9, &raw)
        }
        Values::Strings(v) => {
            let m = m.int(2, DataType::String as i64);
            v.iter().fold(m, |m, s| m.str(6, s)).str(8, name)
        }
    };
    m
}

/// One dimension of a tensor's shape: a number, or a name for a size known only at run time.
pub enum Dim<'a> {
    Value(usize),
    Param(&'a str),
}

/// ValueInfoProto of a tensor: `name` and TypeProto { tensor_type { elem_type, shape } }.
pub fn value_info(name: &str, elem: DataType, shape: &[Dim]) -> Msg {
    // TensorShapeProto.Dimension: dim_value = 1, dim_param = 2; TensorShapeProto: dim = 1.
    let dims: Vec<Msg> = shape
        .iter()
        .map(|d| match d {
            Dim::Value(v) => Msg::new().int(1, *v as i64),
            Dim::Param(p) => Msg::new().str(2, p),
        })
        .collect();
    let shape = Msg::new().msgs(1, &dims);
    // TypeProto.Tensor: elem_type = 1, shape = 2; TypeProto: tensor_type = 1.
    let tensor_type = Msg::new().int(1, elem as i64).msg(2, &shape);
    let ty = Msg::new().msg(1, &tensor_type);
    // ValueInfoProto: name = 1, type = 2.
    Msg::new().str(1, name).msg(2, &ty)
}

/// An attribute of a node: an integer (AttributeProto.type INT = 2) is all this graph needs.
pub fn int_attribute(name: &str, v: i64) -> Msg {
    // AttributeProto: name = 1, i = 3, type = 20.
    Msg::new().str(1, name).int(3, v).int(20, 2)
}

/// NodeProto: `inputs` → `op_type` → `outputs`, named `name`, with integer attributes.
pub fn node(
    op_type: &str,
    name: &str,
    inputs: &[&str],
    outputs: &[&str],
    attrs: &[(&str, i64)],
) -> Msg {
    // NodeProto: input = 1, output = 2, name = 3, op_type = 4, attribute = 5.
    let m = inputs.iter().fold(Msg::new(), |m, i| m.str(1, i));
    let m = outputs.iter().fold(m, |m, o| m.str(2, o));
    let attrs: Vec<Msg> = attrs.iter().map(|(n, v)| int_attribute(n, *v)).collect();
    m.str(3, name).str(4, op_type).msgs(5, &attrs)
}

/// GraphProto: nodes (in topological order), name, initializers, doc string, inputs, outputs.
pub fn graph(
    name: &str,
    doc: &str,
    nodes: &[Msg],
    initializers: &[Msg],
    inputs: &[Msg],
    outputs: &[Msg],
) -> Msg {
    // GraphProto: node = 1, name = 2, initializer = 5, doc_string = 10, input = 11, output = 12.
    Msg::new()
        .msgs(1, nodes)
        .str(2, name)
        .msgs(5, initializers)
        .str(10, doc)
        .msgs(11, inputs)
        .msgs(12, outputs)
}

/// ModelProto: IR version, producer, the graph, the default domain's opset, and
/// `metadata_props` (key, value) pairs.
pub fn model(
    ir_version: i64,
    opset: i64,
    producer: (&str, &str),
    doc: &str,
    graph: &Msg,
    metadata: &[(&str, String)],
) -> Msg {
    // StringStringEntryProto: key = 1, value = 2; OperatorSetIdProto: domain = 1, version = 2
    // (the default domain "" is the empty string, left out).
    let props: Vec<Msg> = metadata
        .iter()
        .map(|(k, v)| Msg::new().str(1, k).str(2, v))
        .collect();
    let opset = Msg::new().int(2, opset);
    // ModelProto: ir_version = 1, producer_name = 2, producer_version = 3, doc_string = 6,
    // graph = 7, opset_import = 8, metadata_props = 14.
    Msg::new()
        .int(1, ir_version)
        .str(2, producer.0)
        .str(3, producer.1)
        .str(6, doc)
        .msg(7, graph)
        .msg(8, &opset)
        .msgs(14, &props)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_follow_the_encoding_guide() {
        // The guide's examples: 1 → 01, 150 → 96 01; field 1 varint 150 → 08 96 01.
        assert_eq!(Msg::new().int(1, 150).into_bytes(), [0x08, 0x96, 0x01]);
        assert_eq!(Msg::new().int(1, 1).into_bytes(), [0x08, 0x01]);
        // A negative int64 is ten bytes (two's complement as u64).
        let neg = Msg::new().int(1, -1).into_bytes();
        assert_eq!(neg.len(), 11);
        assert_eq!(neg[10], 0x01);
        // Field 2 string "testing" → 12 07 74 65 73 74 69 6e 67.
        assert_eq!(
            Msg::new().str(2, "testing").into_bytes(),
            [0x12, 0x07, b't', b'e', b's', b't', b'i', b'n', b'g']
        );
        // Field 20 (AttributeProto.type) needs a two-byte key: (20 << 3) | 0 = 160 → a0 01.
        assert_eq!(Msg::new().int(20, 2).into_bytes(), [0xa0, 0x01, 0x02]);
    }

    #[test]
    fn a_tensor_carries_its_numbers_in_the_precision_asked() {
        let t = tensor("w", &[2], Values::F32(&[1.0, -2.0])).into_bytes();
        // dims 2; data_type FLOAT; name "w"; raw_data 8 bytes.
        let mut want = vec![0x08, 2, 0x10, 1, 0x42, 1, b'w', 0x4a, 8];
        want.extend(1.0f32.to_le_bytes());
        want.extend((-2.0f32).to_le_bytes());
        assert_eq!(t, want);
        let t = tensor("c", &[2], Values::Strings(&["a".into(), "bc".into()])).into_bytes();
        assert_eq!(
            t,
            [0x08, 2, 0x10, 8, 0x32, 1, b'a', 0x32, 2, b'b', b'c', 0x42, 1, b'c']
        );
    }
}
