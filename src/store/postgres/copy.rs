//! PostgreSQL's COPY text format: tab-separated fields, `\\N` for null, backslash escapes; and sending such rows
//! with `COPY ... FROM STDIN`.

use std::fmt::Write as _;

use sqlx::PgConnection;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::store::{StoreError, db_error};

/// Rows in PostgreSQL's COPY text format: tab-separated, `\N` for null, backslash escapes.
#[derive(Default)]
pub(super) struct CopyRows {
    buf: String,
    first: bool,
}

impl CopyRows {
    pub(super) fn text(&mut self, value: &str) -> &mut Self {
        self.sep();
        for c in value.chars() {
            match c {
                '\\' => self.buf.push_str("\\\\"),
                '\t' => self.buf.push_str("\\t"),
                '\n' => self.buf.push_str("\\n"),
                '\r' => self.buf.push_str("\\r"),
                c => self.buf.push(c),
            }
        }
        self
    }

    /// A `text[]` value: the array literal (every element quoted, `"` and `\` escaped), then escaped as text.
    pub(super) fn text_array(&mut self, values: &[String]) -> &mut Self {
        let mut literal = String::from("{");
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                literal.push(',');
            }
            literal.push('"');
            for c in v.chars() {
                if matches!(c, '"' | '\\') {
                    literal.push('\\');
                }
                literal.push(c);
            }
            literal.push('"');
        }
        literal.push('}');
        self.text(&literal)
    }

    pub(super) fn opt(&mut self, value: Option<&str>) -> &mut Self {
        match value {
            Some(v) => self.text(v),
            None => {
                self.sep();
                self.buf.push_str("\\N");
                self
            }
        }
    }

    pub(super) fn int(&mut self, value: i64) -> &mut Self {
        self.sep();
        let _ = write!(self.buf, "{value}");
        self
    }

    pub(super) fn uuid(&mut self, value: Uuid) -> &mut Self {
        self.sep();
        let _ = write!(self.buf, "{value}");
        self
    }

    pub(super) fn time(&mut self, value: OffsetDateTime) -> Result<&mut Self, StoreError> {
        let formatted = value.format(&Rfc3339).map_err(StoreError::internal)?;
        Ok(self.text(&formatted))
    }

    fn sep(&mut self) {
        if self.first {
            self.first = false;
        } else {
            self.buf.push('\t');
        }
    }

    pub(super) fn start(&mut self) -> &mut Self {
        if !self.buf.is_empty() {
            self.buf.push('\n');
        }
        self.first = true;
        self
    }
}

pub(super) async fn copy_in(conn: &mut PgConnection, statement: &str, rows: CopyRows) -> Result<(), StoreError> {
    if rows.buf.is_empty() {
        return Ok(());
    }
    let mut copy = conn.copy_in_raw(statement).await.map_err(db_error)?;
    let mut data = rows.buf.into_bytes();
    data.push(b'\n');
    copy.send(data).await.map_err(db_error)?;
    copy.finish().await.map_err(db_error)?;
    Ok(())
}
