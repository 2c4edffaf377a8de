use observe::{Label, observe};

#[derive(Label)]
enum Country {
    A0, A1, A2, A3, A4, A5, A6, A7, A8, A9,
}

#[derive(Label)]
enum Currency {
    B0, B1, B2, B3, B4, B5, B6, B7,
}

#[observe(labels(country = country, currency = currency))]
fn price(country: Country, currency: Currency) {}

fn main() {}
