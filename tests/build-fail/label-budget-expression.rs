use observe::{Label, observe};

#[derive(Label)]
pub enum Country {
    A0, A1, A2, A3, A4, A5, A6, A7, A8, A9,
}

#[derive(Label)]
pub enum Currency {
    B0, B1, B2, B3, B4, B5, B6, B7,
}

pub struct Quote {
    pub country: Country,
    pub currency: Currency,
}

#[observe(labels(country = quote.country, currency = quote.currency), max_series = 128)]
fn price(quote: &Quote) {}

fn main() {
    price(&Quote { country: Country::A0, currency: Currency::B0 });
}
