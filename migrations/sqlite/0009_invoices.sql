-- Tax invoices and credit notes (docs/invoices.md). A document is stored once, when its payment or refund commits,
-- and never changes: triggers refuse UPDATE and DELETE. Numbers are gap-free per (kind, store, UTC year): each
-- comes from the counter row of its series, written by the single writer's transaction, so a rolled-back
-- transaction gives its number back. Orders paid before this migration get no invoice retroactively.

CREATE TABLE tax_document_counters (
    kind     TEXT NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
    store    TEXT NOT NULL,
    year     INTEGER NOT NULL,
    last_seq INTEGER NOT NULL CHECK (last_seq > 0),
    PRIMARY KEY (kind, store, year)
);

CREATE TABLE tax_documents (
    number       TEXT PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
    store        TEXT NOT NULL,
    year         INTEGER NOT NULL,
    seq          INTEGER NOT NULL CHECK (seq > 0),
    order_id     TEXT NOT NULL REFERENCES orders (id),
    source_event TEXT NOT NULL UNIQUE,
    issued_at    INTEGER NOT NULL,
    references_number TEXT REFERENCES tax_documents (number),
    document     TEXT NOT NULL,
    UNIQUE (kind, store, year, seq)
);
CREATE INDEX tax_documents_by_order ON tax_documents (order_id, number);

CREATE TRIGGER tax_documents_no_update BEFORE UPDATE ON tax_documents
BEGIN SELECT RAISE(ABORT, 'tax invoices and credit notes are append-only'); END;
CREATE TRIGGER tax_documents_no_delete BEFORE DELETE ON tax_documents
BEGIN SELECT RAISE(ABORT, 'tax invoices and credit notes are append-only'); END;
