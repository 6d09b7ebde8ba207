//! Stripe's form encoding. Requests carry `application/x-www-form-urlencoded` pairs (or a query
//! string) whose keys use brackets for nesting: `metadata[org]=acme`,
//! `line_items[0][price_data][unit_amount]=500`, `expand[]=line_items`. `parse` decodes them into
//! a tree; `Fields` takes known parameters out of one level of it, refuses unknown ones, and names
//! every parameter in errors the way Stripe does (`line_items[0][quantity]`).

use crate::errors::ApiError;

/// One decoded parameter value: a string, or a map of named (or indexed) children.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Leaf(String),
    Map(Vec<(String, Node)>),
}

/// Decodes a form body or query string into the top-level map of parameters.
pub fn parse(encoded: &[u8]) -> Result<Vec<(String, Node)>, ApiError> {
    let mut root = Vec::new();
    for (key, value) in url::form_urlencoded::parse(encoded) {
        let segments = split_key(&key);
        insert(&mut root, &segments, value.into_owned(), "")?;
    }
    Ok(root)
}

/// The decoded pairs, sorted: what two requests must share to count as "the same parameters".
pub fn canonical(encoded: &[u8]) -> String {
    let mut pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(encoded).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    pairs.sort();
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

/// `a[b][]` → `["a", "b", ""]`. A key with unbalanced brackets is kept whole.
fn split_key(key: &str) -> Vec<String> {
    let Some(open) = key.find('[') else {
        return vec![key.to_string()];
    };
    let mut segments = vec![key[..open].to_string()];
    let mut rest = &key[open..];
    while let Some(stripped) = rest.strip_prefix('[') {
        let Some(close) = stripped.find(']') else {
            return vec![key.to_string()];
        };
        segments.push(stripped[..close].to_string());
        rest = &stripped[close + 1..];
    }
    if !rest.is_empty() {
        return vec![key.to_string()];
    }
    segments
}

fn insert(map: &mut Vec<(String, Node)>, segments: &[String], value: String, param: &str) -> Result<(), ApiError> {
    let (first, rest) = segments.split_first().expect("at least one segment");
    // `[]` appends: a new element, unless this is a nested key the last element still lacks.
    let key = if first.is_empty() {
        let reuse_last = match (rest.first(), map.last()) {
            (Some(next), Some((_, Node::Map(children)))) => !children.iter().any(|(k, _)| k == next),
            _ => false,
        };
        if reuse_last { map.last().expect("checked").0.clone() } else { map.len().to_string() }
    } else {
        first.clone()
    };
    let child_param = if param.is_empty() { key.clone() } else { format!("{param}[{key}]") };
    let position = map.iter().position(|(k, _)| *k == key);
    if rest.is_empty() {
        match position {
            Some(i) if matches!(map[i].1, Node::Map(_)) => {
                return Err(invalid_shape(child_param, "Invalid object"));
            }
            // A repeated scalar keeps its last value.
            Some(i) => map[i].1 = Node::Leaf(value),
            None => map.push((key, Node::Leaf(value))),
        }
        return Ok(());
    }
    let index = match position {
        Some(i) => i,
        None => {
            map.push((key.clone(), Node::Map(Vec::new())));
            map.len() - 1
        }
    };
    match &mut map[index].1 {
        Node::Map(children) => insert(children, rest, value, &child_param),
        Node::Leaf(_) => Err(invalid_shape(child_param, "Invalid object")),
    }
}

fn invalid_shape(param: String, what: &str) -> ApiError {
    ApiError::InvalidParameter { message: format!("{what}: {param}"), param }
}

/// The known parameters of an endpoint, so that an unknown one anywhere in the tree is refused
/// before anything else is checked, as Stripe does.
#[derive(Debug)]
pub enum Shape {
    /// A string, number or boolean.
    Scalar,
    /// Named fields.
    Object(&'static [(&'static str, Shape)]),
    /// Indexed elements of one shape.
    Array(&'static Shape),
    /// Free keys with string values (`metadata`).
    Dictionary,
}

/// Refuses the first parameter of `entries` (named under `prefix`) that `fields` does not know.
pub fn check_known(entries: &[(String, Node)], fields: &[(&str, Shape)], prefix: &str) -> Result<(), ApiError> {
    for (key, node) in entries {
        let name = if prefix.is_empty() { key.clone() } else { format!("{prefix}[{key}]") };
        let Some((_, shape)) = fields.iter().find(|(k, _)| k == key) else {
            return Err(ApiError::UnknownParameter { param: name });
        };
        check_node(node, shape, &name)?;
    }
    Ok(())
}

fn check_node(node: &Node, shape: &Shape, name: &str) -> Result<(), ApiError> {
    match (shape, node) {
        (Shape::Object(fields), Node::Map(entries)) => check_known(entries, fields, name),
        (Shape::Array(element), Node::Map(entries)) => {
            entries.iter().try_for_each(|(index, node)| check_node(node, element, &format!("{name}[{index}]")))
        }
        // Wrong kinds (a map for a scalar, ...) are reported by the typed readers of `Fields`.
        _ => Ok(()),
    }
}

/// Bounds on a number (a timestamp); every bound given must hold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Range {
    pub gt: Option<i64>,
    pub gte: Option<i64>,
    pub lt: Option<i64>,
    pub lte: Option<i64>,
}

impl Range {
    pub fn contains(&self, value: i64) -> bool {
        self.gt.is_none_or(|b| value > b)
            && self.gte.is_none_or(|b| value >= b)
            && self.lt.is_none_or(|b| value < b)
            && self.lte.is_none_or(|b| value <= b)
    }
}

/// One level of parameters being read. Every `take_*` removes what it reads.
#[derive(Debug)]
pub struct Fields {
    prefix: String,
    entries: Vec<(String, Node)>,
}

impl Fields {
    pub fn root(entries: Vec<(String, Node)>) -> Fields {
        Fields { prefix: String::new(), entries }
    }

    /// The full name of a parameter of this level, as Stripe writes it in errors.
    pub fn name(&self, key: &str) -> String {
        if self.prefix.is_empty() { key.to_string() } else { format!("{}[{key}]", self.prefix) }
    }

    /// Refuses, anywhere below this level, the first parameter `shape` does not know.
    pub fn check_known(&self, shape: &[(&str, Shape)]) -> Result<(), ApiError> {
        check_known(&self.entries, shape, &self.prefix)
    }

    /// Refuses the first parameter not in `allowed`, as `parameter_unknown`.
    pub fn reject_unknown(&self, allowed: &[&str]) -> Result<(), ApiError> {
        match self.entries.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
            Some((key, _)) => Err(ApiError::UnknownParameter { param: self.name(key) }),
            None => Ok(()),
        }
    }

    fn take(&mut self, key: &str) -> Option<Node> {
        let index = self.entries.iter().position(|(k, _)| k == key)?;
        Some(self.entries.remove(index).1)
    }

    pub fn string(&mut self, key: &str) -> Result<Option<String>, ApiError> {
        match self.take(key) {
            None => Ok(None),
            Some(Node::Leaf(value)) => Ok(Some(value)),
            Some(Node::Map(_)) => Err(invalid_shape(self.name(key), "Invalid string")),
        }
    }

    /// A string that must be present and not empty.
    pub fn required_string(&mut self, key: &str) -> Result<String, ApiError> {
        match self.string(key)? {
            None => Err(ApiError::MissingParameter { param: self.name(key) }),
            Some(value) if value.is_empty() => Err(ApiError::EmptyParameter { param: self.name(key) }),
            Some(value) => Ok(value),
        }
    }

    /// An optional string where the empty string means "not set".
    pub fn optional_string(&mut self, key: &str) -> Result<Option<String>, ApiError> {
        Ok(self.string(key)?.filter(|v| !v.is_empty()))
    }

    pub fn integer(&mut self, key: &str) -> Result<Option<i64>, ApiError> {
        match self.optional_string(key)? {
            None => Ok(None),
            Some(value) => match value.parse::<i64>() {
                Ok(n) => Ok(Some(n)),
                Err(_) => Err(ApiError::InvalidInteger { param: self.name(key), value }),
            },
        }
    }

    pub fn boolean(&mut self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.optional_string(key)?.as_deref() {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(other) => {
                Err(ApiError::InvalidParameter { param: self.name(key), message: format!("Invalid boolean: {other}") })
            }
        }
    }

    /// A nested object such as `price_data[...]`.
    pub fn object(&mut self, key: &str) -> Result<Option<Fields>, ApiError> {
        let name = self.name(key);
        match self.take(key) {
            None => Ok(None),
            Some(Node::Map(entries)) => Ok(Some(Fields { prefix: name, entries })),
            // An empty string unsets an object; there is nothing to read.
            Some(Node::Leaf(v)) if v.is_empty() => Ok(None),
            Some(Node::Leaf(_)) => Err(invalid_shape(name, "Invalid object")),
        }
    }

    /// An array such as `line_items[0][...]`, `line_items[1][...]`, ordered by index.
    pub fn array(&mut self, key: &str) -> Result<Option<Vec<(String, Node)>>, ApiError> {
        let name = self.name(key);
        match self.take(key) {
            None => Ok(None),
            Some(Node::Leaf(v)) if v.is_empty() => Ok(Some(Vec::new())),
            Some(Node::Leaf(_)) => Err(invalid_shape(name, "Invalid array")),
            Some(Node::Map(entries)) => {
                let mut indexed = Vec::with_capacity(entries.len());
                for (index, node) in entries {
                    let Ok(n) = index.parse::<usize>() else {
                        return Err(invalid_shape(name, "Invalid array"));
                    };
                    indexed.push((n, format!("{name}[{index}]"), node));
                }
                indexed.sort_by_key(|(n, _, _)| *n);
                Ok(Some(indexed.into_iter().map(|(_, param, node)| (param, node)).collect()))
            }
        }
    }

    /// An array of objects, each read as its own level.
    pub fn object_array(&mut self, key: &str) -> Result<Option<Vec<Fields>>, ApiError> {
        let Some(items) = self.array(key)? else {
            return Ok(None);
        };
        items
            .into_iter()
            .map(|(param, node)| match node {
                Node::Map(entries) => Ok(Fields { prefix: param, entries }),
                Node::Leaf(_) => Err(invalid_shape(param, "Invalid object")),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// An array of strings such as `expand[]=line_items` or `payment_method_types[0]=card`.
    pub fn string_array(&mut self, key: &str) -> Result<Option<Vec<String>>, ApiError> {
        let Some(items) = self.array(key)? else {
            return Ok(None);
        };
        items
            .into_iter()
            .map(|(param, node)| match node {
                Node::Leaf(value) => Ok(value),
                Node::Map(_) => Err(invalid_shape(param, "Invalid string")),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// A timestamp filter such as `created`: an exact value (`created=1700000000`) or bounds
    /// (`created[gte]=...&created[lt]=...`), as Stripe's list endpoints take it.
    pub fn range(&mut self, key: &str) -> Result<Option<Range>, ApiError> {
        let name = self.name(key);
        match self.take(key) {
            None => Ok(None),
            Some(Node::Leaf(v)) if v.is_empty() => Ok(None),
            Some(Node::Leaf(value)) => {
                let exact = value.parse::<i64>().map_err(|_| ApiError::InvalidInteger { param: name, value })?;
                Ok(Some(Range { gte: Some(exact), lte: Some(exact), ..Range::default() }))
            }
            Some(Node::Map(entries)) => {
                let mut bounds = Fields { prefix: name, entries };
                bounds.reject_unknown(&["gt", "gte", "lt", "lte"])?;
                Ok(Some(Range {
                    gt: bounds.integer("gt")?,
                    gte: bounds.integer("gte")?,
                    lt: bounds.integer("lt")?,
                    lte: bounds.integer("lte")?,
                }))
            }
        }
    }

    /// `metadata[key]=value` pairs; an empty value removes a key (here: leaves it out).
    pub fn metadata(&mut self, key: &str) -> Result<Option<Vec<(String, String)>>, ApiError> {
        let Some(level) = self.object(key)? else {
            return Ok(None);
        };
        let mut pairs = Vec::new();
        for (k, node) in level.entries {
            match node {
                Node::Leaf(v) if v.is_empty() => {}
                Node::Leaf(v) => pairs.push((k, v)),
                Node::Map(_) => {
                    return Err(invalid_shape(format!("{}[{k}]", level.prefix), "Invalid string"));
                }
            }
        }
        Ok(Some(pairs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(encoded: &str) -> Fields {
        Fields::root(parse(encoded.as_bytes()).unwrap())
    }

    #[test]
    fn nested_brackets_and_names() {
        let mut f = fields(
            "mode=payment&line_items[0][price_data][unit_amount]=500\
             &line_items[0][quantity]=2&line_items[1][price]=price_1&metadata[org]=acme",
        );
        assert_eq!(f.string("mode").unwrap().as_deref(), Some("payment"));
        let mut items = f.object_array("line_items").unwrap().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].name("quantity"), "line_items[0][quantity]");
        let mut price_data = items[0].object("price_data").unwrap().unwrap();
        assert_eq!(price_data.name("unit_amount"), "line_items[0][price_data][unit_amount]");
        assert_eq!(price_data.integer("unit_amount").unwrap(), Some(500));
        assert_eq!(items[1].string("price").unwrap().as_deref(), Some("price_1"));
        assert_eq!(f.metadata("metadata").unwrap().unwrap(), vec![("org".into(), "acme".into())]);
    }

    #[test]
    fn percent_encoded_brackets_and_appending() {
        let mut f = fields("expand%5B%5D=line_items&expand[]=payment_intent&types%5B0%5D=card");
        assert_eq!(
            f.string_array("expand").unwrap().unwrap(),
            vec!["line_items".to_string(), "payment_intent".to_string()]
        );
        assert_eq!(f.string_array("types").unwrap().unwrap(), vec!["card".to_string()]);
    }

    #[test]
    fn ranges_are_exact_values_or_bounds() {
        let mut f = fields("created[gte]=10&created[lt]=20&at=15&bad[since]=1");
        let range = f.range("created").unwrap().unwrap();
        assert!(!range.contains(9) && range.contains(10) && range.contains(19) && !range.contains(20));
        let exact = f.range("at").unwrap().unwrap();
        assert!(exact.contains(15) && !exact.contains(16));
        assert_eq!(f.range("bad"), Err(ApiError::UnknownParameter { param: "bad[since]".into() }));
        assert_eq!(f.range("none"), Ok(None));
    }

    #[test]
    fn indices_are_ordered_numerically() {
        let mut f = fields("a[10]=x&a[2]=y");
        assert_eq!(f.string_array("a").unwrap().unwrap(), vec!["y".to_string(), "x".to_string()]);
    }

    #[test]
    fn unknown_and_invalid_parameters_are_named() {
        let f = fields("line_items[0][bogus]=1&mode=payment");
        assert!(f.reject_unknown(&["line_items", "mode"]).is_ok());
        let mut f = fields("line_items[0][bogus]=1");
        let items = f.object_array("line_items").unwrap().unwrap();
        assert_eq!(
            items[0].reject_unknown(&["price"]),
            Err(ApiError::UnknownParameter { param: "line_items[0][bogus]".into() })
        );
        let mut f = fields("line_items[0][quantity]=two");
        let mut items = f.object_array("line_items").unwrap().unwrap();
        assert_eq!(
            items[0].integer("quantity"),
            Err(ApiError::InvalidInteger { param: "line_items[0][quantity]".into(), value: "two".into() })
        );
        let mut f = fields("success_url=");
        assert_eq!(f.required_string("success_url"), Err(ApiError::EmptyParameter { param: "success_url".into() }));
    }

    #[test]
    fn unknown_parameters_are_found_at_any_depth() {
        const ITEM: Shape = Shape::Object(&[("price", Shape::Scalar), ("quantity", Shape::Scalar)]);
        const KNOWN: &[(&str, Shape)] =
            &[("mode", Shape::Scalar), ("items", Shape::Array(&ITEM)), ("metadata", Shape::Dictionary)];
        assert!(fields("mode=x&items[0][price]=p&metadata[any]=1").check_known(KNOWN).is_ok());
        assert_eq!(
            fields("mode=x&items[1][colour]=red").check_known(KNOWN),
            Err(ApiError::UnknownParameter { param: "items[1][colour]".into() })
        );
        assert_eq!(fields("other=1").check_known(KNOWN), Err(ApiError::UnknownParameter { param: "other".into() }));
    }

    #[test]
    fn canonical_form_ignores_order_and_encoding() {
        assert_eq!(canonical(b"b=2&a%5B0%5D=1"), canonical(b"a[0]=1&b=2"));
        assert_ne!(canonical(b"a=1"), canonical(b"a=2"));
    }
}
