//! Reading an export folder: the four files, decoded (Windows-1256 or UTF-8, a BOM wins), their headers checked,
//! and the order-keyed files spread over bucket files on disk by ORDER_ID, so that one bucket at a time holds an
//! order with its items and payments in memory whatever the size of the export (a grace hash join).

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read};
use std::path::{Path, PathBuf};

use csv::StringRecord;
use sha2::{Digest, Sha256};

use super::fields::{Fault, Reason};

/// How the export's bytes are to be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Encoding {
    #[value(name = "windows-1256")]
    Windows1256,
    #[value(name = "utf-8")]
    Utf8,
}

/// One file of the export and the columns it must have (in the order the rest of the import reads them).
pub struct Layout {
    pub name: &'static str,
    pub columns: &'static [&'static str],
}

pub const ORDERS: Layout = Layout {
    name: "ORDERS.csv",
    columns: &[
        "ORDER_ID",
        "ORDER_NO",
        "STORE",
        "CUST_ID",
        "CUST_NAME",
        "CUST_PHONE",
        "CURRENCY",
        "ORDER_DATE",
        "STATUS",
        "PAY_METHOD",
        "SUBTOTAL",
        "TAX",
        "SHIPPING",
        "TOTAL",
        "SHIP_NAME",
        "SHIP_ADDR",
        "SHIP_CITY",
        "SHIP_COUNTRY",
    ],
};
pub const ITEMS: Layout = Layout {
    name: "ORDER_ITEMS.csv",
    columns: &[
        "ITEM_ID",
        "ORDER_ID",
        "SKU",
        "QTY",
        "UNIT_PRICE",
        "LINE_TAX",
        "LINE_TOTAL",
    ],
};
pub const PAYMENTS: Layout = Layout {
    name: "PAYMENTS.csv",
    columns: &["PAY_ID", "ORDER_ID", "TYPE", "AMOUNT", "PAY_DATE", "REF"],
};
pub const PRODUCTS: Layout = Layout {
    name: "PRODUCTS.csv",
    columns: &["SKU", "NAME_EN", "NAME_AR", "CURRENCY", "PRICE", "ON_HAND"],
};

pub const FILES: [&Layout; 4] = [&ORDERS, &ITEMS, &PAYMENTS, &PRODUCTS];

/// An export that cannot be read at all: exit status 2.
#[derive(Debug, thiserror::Error)]
pub enum BadExport {
    #[error("{0}: missing from the export folder")]
    MissingFile(PathBuf),
    #[error("{file}: the header has no column {column}")]
    MissingColumn { file: &'static str, column: &'static str },
    #[error("{file}: {source}")]
    Unreadable {
        file: &'static str,
        #[source]
        source: csv::Error,
    },
}

/// A rejected order or row, as `rejected.csv` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub file: &'static str,
    pub legacy_id: String,
    pub fault: Fault,
}

/// A CSV reader over one decoded file, with each record's fields rearranged to the layout's column order.
pub struct Rows {
    reader: csv::Reader<Box<dyn Read>>,
    index: Vec<usize>,
    layout: &'static Layout,
    raw: StringRecord,
}

impl Rows {
    pub fn open(dir: &Path, layout: &'static Layout, encoding: Encoding) -> Result<Rows, BadExport> {
        let path = dir.join(layout.name);
        let file = File::open(&path).map_err(|_| BadExport::MissingFile(path.clone()))?;
        let decoded = encoding_rs_io::DecodeReaderBytesBuilder::new()
            .encoding(Some(match encoding {
                Encoding::Windows1256 => encoding_rs::WINDOWS_1256,
                Encoding::Utf8 => encoding_rs::UTF_8,
            }))
            .bom_override(true)
            .strip_bom(true)
            .build(BufReader::with_capacity(1 << 16, file));
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(Box::new(decoded) as Box<dyn Read>);
        let unreadable = |source| BadExport::Unreadable {
            file: layout.name,
            source,
        };
        let header = reader.headers().map_err(unreadable)?.clone();
        let names: Vec<String> = header
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').trim().to_ascii_uppercase())
            .collect();
        let index = layout
            .columns
            .iter()
            .map(|column| {
                names.iter().position(|n| n == column).ok_or(BadExport::MissingColumn {
                    file: layout.name,
                    column,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Rows {
            reader,
            index,
            layout,
            raw: StringRecord::new(),
        })
    }

    /// The next record in layout order (missing trailing fields read as empty, that is null).
    pub fn next_record(&mut self) -> Result<Option<StringRecord>, BadExport> {
        let more = self
            .reader
            .read_record(&mut self.raw)
            .map_err(|source| BadExport::Unreadable {
                file: self.layout.name,
                source,
            })?;
        if !more {
            return Ok(None);
        }
        let mut record = StringRecord::with_capacity(self.raw.as_slice().len(), self.index.len());
        for &i in &self.index {
            record.push_field(self.raw.get(i).unwrap_or(""));
        }
        Ok(Some(record))
    }

    /// Bytes of the file consumed so far, for progress.
    pub fn position(&self) -> u64 {
        self.reader.position().byte()
    }
}

/// SHA-256 over the four files' names and bytes: which export this is, so a rerun finds its unfinished run.
pub fn digest(dir: &Path) -> Result<String, BadExport> {
    let mut hash = Sha256::new();
    for layout in FILES {
        let path = dir.join(layout.name);
        let mut file = File::open(&path).map_err(|_| BadExport::MissingFile(path.clone()))?;
        hash.update(layout.name.as_bytes());
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = file.read(&mut buf).map_err(|_| BadExport::MissingFile(path.clone()))?;
            if n == 0 {
                break;
            }
            hash.update(&buf[..n]);
        }
    }
    Ok(hex::encode(hash.finalize()))
}

/// The bucket of an ORDER_ID: a multiplicative hash, so consecutive ids spread evenly.
fn bucket_of(order_id: i64, buckets: usize) -> usize {
    let mixed = (order_id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    ((mixed >> 32) % buckets as u64) as usize
}

/// Bucket files of one kind (orders, items or payments).
struct BucketWriters {
    writers: Vec<csv::Writer<BufWriter<File>>>,
}

impl BucketWriters {
    fn create(dir: &Path, kind: &str, buckets: usize) -> anyhow::Result<Self> {
        let writers = (0..buckets)
            .map(|b| {
                let file = File::create(dir.join(format!("{kind}-{b}.csv")))?;
                Ok(csv::WriterBuilder::new()
                    .flexible(true)
                    .from_writer(BufWriter::with_capacity(1 << 15, file)))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(BucketWriters { writers })
    }

    fn write(&mut self, bucket: usize, record: &StringRecord) -> anyhow::Result<()> {
        self.writers[bucket].write_record(record)?;
        Ok(())
    }

    fn finish(self) -> anyhow::Result<()> {
        for mut w in self.writers {
            w.flush()?;
        }
        Ok(())
    }
}

/// Record counts of the four files.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct RowCounts {
    pub orders_rows: u64,
    pub items_rows: u64,
    pub payments_rows: u64,
    pub products_rows: u64,
}

/// The export after the first pass: counted, products in memory, orders spread over buckets on disk.
pub struct Partitioned {
    pub counts: RowCounts,
    pub products: Vec<StringRecord>,
    /// Rows rejected before any order was assembled (an ORDER_ID that is not a number).
    pub rejections: Vec<Rejection>,
    dir: PathBuf,
    pub buckets: usize,
}

/// One bucket's orders (all copies of each ORDER_ID), items and payments.
pub struct Bucket {
    pub orders: BTreeMap<i64, Vec<StringRecord>>,
    pub items: HashMap<i64, Vec<StringRecord>>,
    pub payments: HashMap<i64, Vec<StringRecord>>,
}

/// Progress of the first pass: bytes read of all files.
pub type OnBytes<'a> = &'a mut dyn FnMut(u64, u64);

impl Partitioned {
    /// Reads the whole export once into `spill` (a scratch folder), about 16 MB of export per bucket.
    pub fn read(dir: &Path, encoding: Encoding, spill: &Path, on_bytes: OnBytes<'_>) -> anyhow::Result<Self> {
        let sizes: Vec<u64> = FILES
            .iter()
            .map(|l| std::fs::metadata(dir.join(l.name)).map(|m| m.len()).unwrap_or(0))
            .collect();
        let total: u64 = sizes.iter().sum();
        let buckets = usize::try_from(total / (16 << 20)).unwrap_or(1).clamp(1, 512);
        let mut counts = RowCounts::default();
        let mut rejections = Vec::new();
        let mut done = 0u64;

        let mut products = Vec::new();
        let mut rows = Rows::open(dir, &PRODUCTS, encoding)?;
        while let Some(r) = rows.next_record()? {
            counts.products_rows += 1;
            products.push(r);
        }
        done += sizes[3];

        for (layout, key, kind) in [
            (&ORDERS, 0usize, "orders"),
            (&ITEMS, 1, "items"),
            (&PAYMENTS, 1, "payments"),
        ] {
            let mut writers = BucketWriters::create(spill, kind, buckets)?;
            let mut rows = Rows::open(dir, layout, encoding)?;
            let mut n = 0u64;
            while let Some(record) = rows.next_record()? {
                n += 1;
                if n % 65_536 == 0 {
                    on_bytes(done + rows.position(), total);
                }
                match record.get(key).unwrap_or("").trim().parse::<i64>() {
                    Ok(order_id) => writers.write(bucket_of(order_id, buckets), &record)?,
                    Err(_) => rejections.push(unkeyed(layout, &record)),
                }
            }
            writers.finish()?;
            done += rows.position();
            match kind {
                "orders" => counts.orders_rows = n,
                "items" => counts.items_rows = n,
                _ => counts.payments_rows = n,
            }
        }
        on_bytes(total, total);
        Ok(Partitioned {
            counts,
            products,
            rejections,
            dir: spill.to_owned(),
            buckets,
        })
    }

    pub fn bucket(&self, b: usize) -> anyhow::Result<Bucket> {
        let read = |kind: &str, key: usize| -> anyhow::Result<Vec<(i64, StringRecord)>> {
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_path(self.dir.join(format!("{kind}-{b}.csv")))?;
            let mut out = Vec::new();
            for record in reader.records() {
                let record = record?;
                let id = record.get(key).unwrap_or("").trim().parse::<i64>()?;
                out.push((id, record));
            }
            Ok(out)
        };
        let mut orders: BTreeMap<i64, Vec<StringRecord>> = BTreeMap::new();
        for (id, r) in read("orders", 0)? {
            orders.entry(id).or_default().push(r);
        }
        let group = |rows: Vec<(i64, StringRecord)>| {
            let mut map: HashMap<i64, Vec<StringRecord>> = HashMap::new();
            for (id, r) in rows {
                map.entry(id).or_default().push(r);
            }
            map
        };
        Ok(Bucket {
            orders,
            items: group(read("items", 1)?),
            payments: group(read("payments", 1)?),
        })
    }
}

/// A row whose ORDER_ID is not a number: an order that cannot be keyed, or an item or payment of no order.
fn unkeyed(layout: &'static Layout, record: &StringRecord) -> Rejection {
    let own_id = record.get(0).unwrap_or("").to_owned();
    let order_id = if std::ptr::eq(layout, &ORDERS) { 0 } else { 1 };
    let raw = record.get(order_id).unwrap_or("");
    let fault = if std::ptr::eq(layout, &ORDERS) {
        Fault::new(Reason::BadValue, format!("ORDER_ID `{raw}` is not an integer"))
    } else if std::ptr::eq(layout, &ITEMS) {
        Fault::new(Reason::OrphanItem, format!("ORDER_ID `{raw}` is no order"))
    } else {
        Fault::new(Reason::OrphanPayment, format!("ORDER_ID `{raw}` is no order"))
    };
    Rejection {
        file: layout.name,
        legacy_id: own_id,
        fault,
    }
}
