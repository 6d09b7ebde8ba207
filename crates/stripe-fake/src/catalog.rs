//! Products and prices: `POST/GET /v1/products[/{id}]` and `POST/GET /v1/prices[/{id}]`, plus the
//! reading of inline `price_data` / `product_data` that Checkout line items share with them.
//! Only one-time, per-unit prices exist in the fake.

use serde_json::Value;

use crate::app::{AppState, now};
use crate::endpoint::{Expand, list_page};
use crate::errors::ApiError;
use crate::form::{Fields, Shape};
use crate::store::{Price, Product, Store};
use crate::{ids, objects};

pub fn create_product(shared: &AppState, mut params: Fields) -> Result<Value, ApiError> {
    params.reject_unknown(&["name", "description", "metadata", "active", "id", "expand"])?;
    let _expand = Expand::read(&mut params, &[])?;
    let id = params.optional_string("id")?;
    let mut product = read_product_data(&mut params)?;
    if let Some(active) = params.boolean("active")? {
        product.active = active;
    }
    let mut store = shared.store();
    if let Some(id) = id {
        if store.product(&id).is_some() {
            return Err(ApiError::InvalidParameter {
                param: "id".into(),
                message: format!("Product already exists with ID '{id}'"),
            });
        }
        product.id = id;
    }
    let json = objects::product(&product);
    store.products.push(product);
    Ok(json)
}

pub fn retrieve_product(shared: &AppState, id: &str, mut params: Fields) -> Result<Value, ApiError> {
    params.reject_unknown(&["expand"])?;
    Expand::read(&mut params, &[])?;
    let store = shared.store();
    let product = store.product(id).ok_or(ApiError::NotFound { kind: "product", id: id.into() })?;
    Ok(objects::product(product))
}

pub fn list_products(shared: &AppState, mut params: Fields) -> Result<Value, ApiError> {
    params.reject_unknown(&["limit", "starting_after", "ending_before", "active", "expand"])?;
    Expand::read(&mut params, &[])?;
    let active = params.boolean("active")?;
    let store = shared.store();
    let items = store
        .products
        .iter()
        .rev()
        .filter(|p| active.is_none_or(|a| p.active == a))
        .map(|p| (p.id.as_str(), p))
        .collect();
    list_page("/v1/products", items, objects::product, &mut params)
}

/// The parameters of `POST /v1/prices` the fake implements.
const PRICE_PARAMS: &[(&str, Shape)] = &[
    ("currency", Shape::Scalar),
    ("unit_amount", Shape::Scalar),
    ("product", Shape::Scalar),
    ("product_data", Shape::Object(&[("name", Shape::Scalar), ("metadata", Shape::Dictionary)])),
    ("metadata", Shape::Dictionary),
    ("nickname", Shape::Scalar),
    ("lookup_key", Shape::Scalar),
    ("active", Shape::Scalar),
    ("expand", Shape::Array(&Shape::Scalar)),
];

pub fn create_price(shared: &AppState, mut params: Fields) -> Result<Value, ApiError> {
    params.check_known(PRICE_PARAMS)?;
    let expand = Expand::read(&mut params, &["product"])?;
    let mut store = shared.store();
    let (mut price, new_product) = read_price(&mut params, &store, true)?;
    price.metadata = params.metadata("metadata")?.unwrap_or_default();
    price.nickname = params.optional_string("nickname")?;
    price.lookup_key = params.optional_string("lookup_key")?;
    if let Some(active) = params.boolean("active")? {
        price.active = active;
    }
    if let Some(product) = new_product {
        store.products.push(product);
    }
    let json = price_json(&price, &store, expand.has("product"));
    store.prices.push(price);
    Ok(json)
}

pub fn retrieve_price(shared: &AppState, id: &str, mut params: Fields) -> Result<Value, ApiError> {
    params.reject_unknown(&["expand"])?;
    let expand = Expand::read(&mut params, &["product"])?;
    let store = shared.store();
    let price = store.price(id).ok_or(ApiError::NotFound { kind: "price", id: id.into() })?;
    Ok(price_json(price, &store, expand.has("product")))
}

pub fn list_prices(shared: &AppState, mut params: Fields) -> Result<Value, ApiError> {
    params.reject_unknown(&["limit", "starting_after", "ending_before", "active", "product", "currency", "expand"])?;
    let expand = Expand::read(&mut params, &["data.product"])?;
    let active = params.boolean("active")?;
    let product = params.optional_string("product")?;
    let currency = params.optional_string("currency")?.map(|c| c.to_ascii_lowercase());
    let store = shared.store();
    let items = store
        .prices
        .iter()
        .rev()
        .filter(|p| active.is_none_or(|a| p.active == a))
        .filter(|p| product.as_ref().is_none_or(|id| &p.product == id))
        .filter(|p| currency.as_ref().is_none_or(|c| &p.currency == c))
        .map(|p| (p.id.as_str(), p))
        .collect();
    let expand_product = expand.has("data.product");
    list_page("/v1/prices", items, |p| price_json(p, &store, expand_product), &mut params)
}

fn price_json(price: &Price, store: &Store, expand_product: bool) -> Value {
    let product = if expand_product { store.product(&price.product) } else { None };
    objects::price(price, product)
}

/// Reads `currency`, `unit_amount` and `product` | `product_data` from `params` (the top level
/// of `POST /v1/prices`, or a line item's `price_data`). Returns the price and, when
/// `product_data` was given, the new product to store beside it.
pub fn read_price(params: &mut Fields, store: &Store, active: bool) -> Result<(Price, Option<Product>), ApiError> {
    let currency = read_currency(params)?;
    let unit_amount = params
        .integer("unit_amount")?
        .ok_or_else(|| ApiError::MissingParameter { param: params.name("unit_amount") })?;
    if unit_amount < 0 {
        return Err(ApiError::InvalidParameter {
            param: params.name("unit_amount"),
            message: "This value must be greater than or equal to 0.".into(),
        });
    }
    let product_id = params.optional_string("product")?;
    let product_data = params.object("product_data")?;
    let (product_id, new_product) = match (product_id, product_data) {
        (Some(_), Some(_)) => {
            return Err(ApiError::InvalidParameter {
                param: params.name("product"),
                message: "You may only specify one of these parameters: product, product_data.".into(),
            });
        }
        (None, None) => {
            return Err(ApiError::MissingParameter { param: params.name("product") });
        }
        (Some(id), None) => {
            if store.product(&id).is_none() {
                return Err(ApiError::MissingReference { kind: "product", id, param: params.name("product") });
            }
            (id, None)
        }
        (None, Some(mut data)) => {
            let product = read_product_data(&mut data)?;
            (product.id.clone(), Some(product))
        }
    };
    let price = Price {
        id: ids::price(),
        product: product_id,
        currency,
        unit_amount,
        active,
        nickname: None,
        lookup_key: None,
        metadata: Vec::new(),
        created: now(),
    };
    Ok((price, new_product))
}

/// `name`, `description`, `metadata` of a product (top level or `product_data`).
fn read_product_data(params: &mut Fields) -> Result<Product, ApiError> {
    let name = params.required_string("name")?;
    let description = params.optional_string("description")?;
    let metadata = params.metadata("metadata")?.unwrap_or_default();
    Ok(Product { id: ids::product(), name, description, active: true, metadata, created: now() })
}

/// A three-letter ISO currency code, lowercased as Stripe returns it.
pub fn read_currency(params: &mut Fields) -> Result<String, ApiError> {
    let currency = params.required_string("currency")?;
    if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(ApiError::InvalidParameter {
            param: params.name("currency"),
            message: format!("Invalid currency: {currency}."),
        });
    }
    Ok(currency.to_ascii_lowercase())
}
