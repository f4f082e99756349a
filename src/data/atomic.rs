//! Reader for RecBole "atomic files": tab-separated text whose header names each column as
//! `name:type`, with type one of `token`, `token_seq`, `float`, `float_seq`.
//!
//! Every malformed row is reported with its file and 1-based line number, because users bring
//! their own logs and the first error they see should point at the line to fix.

use crate::{Error, Result};

/// The type of a column, from the `:type` suffix of its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Token,
    TokenSeq,
    Float,
    FloatSeq,
}

impl FieldType {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "token" => Some(Self::Token),
            "token_seq" => Some(Self::TokenSeq),
            "float" => Some(Self::Float),
            "float_seq" => Some(Self::FloatSeq),
            _ => None,
        }
    }
}

/// One parsed atomic file: header fields and raw string cells, validated against their types.
#[derive(Debug, Clone)]
pub struct AtomicTable {
    pub source: String,
    pub fields: Vec<(String, FieldType)>,
    pub rows: Vec<Vec<String>>,
    /// 1-based line number of each row in the source, for later error messages.
    pub lines: Vec<usize>,
}

impl AtomicTable {
    /// Parses `text`; `source` names the file in error messages.
    pub fn parse(text: &str, source: &str) -> Result<Self> {
        let err = |line: usize, message: String| Error::Parse { file: source.to_string(), line, message };
        let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)));
        let (_, header) = lines.next().ok_or_else(|| err(1, "empty file: expected a `name:type` header".into()))?;
        let mut fields = Vec::new();
        for col in header.split('\t') {
            let (name, ty) = col
                .rsplit_once(':')
                .ok_or_else(|| err(1, format!("header column `{col}` is not `name:type`")))?;
            let ty = FieldType::parse(ty).ok_or_else(|| {
                err(1, format!("header column `{col}`: unknown type `{ty}` (token, token_seq, float, float_seq)"))
            })?;
            if fields.iter().any(|(n, _)| n == name) {
                return Err(err(1, format!("header names column `{name}` twice")));
            }
            fields.push((name.to_string(), ty));
        }
        let mut rows = Vec::new();
        let mut row_lines = Vec::new();
        for (line_no, line) in lines {
            if line.trim().is_empty() {
                continue;
            }
            let cells: Vec<String> = line.split('\t').map(str::to_string).collect();
            if cells.len() != fields.len() {
                return Err(err(line_no, format!("expected {} tab-separated columns, found {}", fields.len(), cells.len())));
            }
            for ((name, ty), cell) in fields.iter().zip(&cells) {
                let bad_float = |v: &str| v.trim().parse::<f64>().map(|f| !f.is_finite()).unwrap_or(true);
                match ty {
                    // An empty cell is a missing value (RecBole's Amazon items lack some prices);
                    // a column that must be there (a timestamp) refuses it where it is read.
                    FieldType::Float if !cell.trim().is_empty() && bad_float(cell) => {
                        return Err(err(line_no, format!("column `{name}`: `{cell}` is not a finite number")));
                    }
                    FieldType::FloatSeq if cell.split_whitespace().any(bad_float) => {
                        return Err(err(line_no, format!("column `{name}`: `{cell}` is not a list of finite numbers")));
                    }
                    _ => {}
                }
            }
            rows.push(cells);
            row_lines.push(line_no);
        }
        Ok(AtomicTable { source: source.to_string(), fields, rows, lines: row_lines })
    }

    /// Reads and parses a file.
    pub fn read(path: &std::path::Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Index of the first column whose name is one of `names`.
    pub fn column(&self, names: &[&str]) -> Option<usize> {
        names.iter().find_map(|n| self.fields.iter().position(|(f, _)| f == n))
    }

    /// Like [`column`](Self::column), but a missing column is an error naming what was expected.
    pub fn require(&self, names: &[&str]) -> Result<usize> {
        self.column(names).ok_or_else(|| Error::Parse {
            file: self.source.clone(),
            line: 1,
            message: format!("missing column: expected one of {names:?} in the header"),
        })
    }

    /// Float value of a cell already validated by [`parse`](Self::parse); NaN for an empty one.
    pub fn float(&self, row: usize, col: usize) -> f64 {
        self.rows[row][col].trim().parse().unwrap_or(f64::NAN)
    }

    /// Serialises back to atomic-file text.
    pub fn to_text(&self) -> String {
        let mut out = self.fields.iter().map(|(n, t)| format!("{n}:{}", t.name())).collect::<Vec<_>>().join("\t");
        out.push('\n');
        for row in &self.rows {
            out.push_str(&row.join("\t"));
            out.push('\n');
        }
        out
    }
}

impl FieldType {
    fn name(self) -> &'static str {
        match self {
            Self::Token => "token",
            Self::TokenSeq => "token_seq",
            Self::Float => "float",
            Self::FloatSeq => "float_seq",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_header_types_and_crlf_rows() {
        let t = AtomicTable::parse("user_id:token\titem_id:token\trating:float\r\nu1\ti1\t4\r\n\nu2\ti2\t3.5\n", "x.inter").unwrap();
        assert_eq!(t.fields[2], ("rating".to_string(), FieldType::Float));
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[1][1], "i2");
        assert_eq!(t.lines, vec![2, 4]);
        assert_eq!(t.float(1, 2), 3.5);
        assert_eq!(t.column(&["nope", "item_id"]), Some(1));
    }

    #[test]
    fn malformed_rows_name_file_and_line() {
        let bad_count = AtomicTable::parse("a:token\tb:float\nx\t1\ny\n", "f.inter").unwrap_err().to_string();
        assert_eq!(bad_count, "f.inter:3: expected 2 tab-separated columns, found 1");
        let bad_float = AtomicTable::parse("a:token\tb:float\nx\t1\ny\tabc\n", "f.inter").unwrap_err().to_string();
        assert!(bad_float.starts_with("f.inter:3: column `b`"), "{bad_float}");
        let nan = AtomicTable::parse("a:token\tb:float\nx\tNaN\n", "f.inter").unwrap_err().to_string();
        assert!(nan.contains(":2:"), "{nan}");
        let empty = AtomicTable::parse("a:token\tb:float\nx\t\n", "f.item").unwrap();
        assert!(empty.float(0, 1).is_nan(), "an empty float cell is a missing value");
        let header = AtomicTable::parse("a:token\tb\n", "f.inter").unwrap_err().to_string();
        assert!(header.contains(":1: header column `b`"), "{header}");
        let ty = AtomicTable::parse("a:tok\n", "f.inter").unwrap_err().to_string();
        assert!(ty.contains("unknown type `tok`"), "{ty}");
        assert!(AtomicTable::parse("", "f.inter").is_err());
    }

    #[test]
    fn round_trips_through_text() {
        let src = "a:token\tb:token_seq\nx\tp q\n";
        assert_eq!(AtomicTable::parse(src, "t").unwrap().to_text(), src);
    }
}
