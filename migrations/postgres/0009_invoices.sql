-- Tax invoices and credit notes (docs/invoices.md). A document is stored once, when its payment or refund commits,
-- and never changes: triggers refuse UPDATE and DELETE. Numbers are gap-free per (kind, store, UTC year): each
-- comes from the counter row of its series, locked by the issuing transaction until it ends, so a rolled-back
-- transaction gives its number back. Orders paid before this migration get no invoice retroactively.

CREATE TABLE tax_document_counters (
    kind     text NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
    store    text NOT NULL,
    year     integer NOT NULL,
    last_seq bigint NOT NULL CHECK (last_seq > 0),
    PRIMARY KEY (kind, store, year)
);

CREATE TABLE tax_documents (
    number       text PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
    store        text NOT NULL,
    year         integer NOT NULL,
    seq          bigint NOT NULL CHECK (seq > 0),
    order_id     uuid NOT NULL REFERENCES orders (id),
    -- The event (capture, collection, refund) that issued it: one document per event.
    source_event uuid NOT NULL UNIQUE,
    issued_at    timestamptz NOT NULL,
    -- A credit note's invoice.
    references_number text REFERENCES tax_documents (number),
    -- The document as stored and answered (domain::invoice::TaxDocument).
    document     text NOT NULL,
    UNIQUE (kind, store, year, seq)
);
CREATE INDEX tax_documents_by_order ON tax_documents (order_id, number);

CREATE FUNCTION tax_documents_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'tax invoices and credit notes are append-only';
END
$$;
CREATE TRIGGER tax_documents_append_only BEFORE UPDATE OR DELETE ON tax_documents
    FOR EACH ROW EXECUTE FUNCTION tax_documents_append_only();

GRANT SELECT, INSERT ON tax_documents TO orderly_app;
GRANT SELECT, INSERT, UPDATE ON tax_document_counters TO orderly_app;
