//! The business, free of I/O: money and currencies, VAT, pricing, stock, the order aggregate and its status
//! machines. Nothing here knows about HTTP, SQL or async; every rule of money, tax, stock and status lives here once.

pub mod allocation;
pub mod catalog;
pub mod cod;
pub mod currency;
pub mod events;
pub mod invoice;
pub mod legacy;
pub mod money;
pub mod order;
pub mod placing;
pub mod pricing;
pub mod search;
pub mod status;
pub mod stock;
pub mod tax;
pub mod text;
pub mod values;

pub use currency::Currency;
pub use money::Money;
