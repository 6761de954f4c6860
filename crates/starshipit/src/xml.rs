//! The XML rendering of `/api/track` (`<GetTrackingResponse>`), read into the same wire
//! types as JSON. The list element naming is unverified, so both plausible forms are read:
//! a repeated `<tracking_events>` element per event (the spec's rendering) and a wrapper
//! `<tracking_events>` holding one child element per event (.NET's usual serialisation).
//! The same holds for `<results>` and `<errors>`.

use quick_xml::{Reader, events::Event};

use crate::wire::{ApiError, Results, TrackResponse, WireEvent, WireShipment};

/// Reads a `<GetTrackingResponse>` document.
pub(crate) fn parse(text: &str) -> Result<TrackResponse, String> {
    let root = tree(text)?;
    if root.name != "GetTrackingResponse" {
        return Err(format!("expected <GetTrackingResponse>, found <{}>", root.name));
    }
    let results: Vec<WireShipment> =
        items(&root, "results", SHIPMENT_FIELDS).into_iter().map(shipment).collect();
    // The same rules as JSON: `true`, `1`, `yes` in any case; anything else is absent.
    let success = root.child_text("success").as_deref().and_then(crate::wire::truthy);
    let api_error = |e: &Element| ApiError {
        code: e.child_text("code"),
        message: e.child_text("message"),
        details: e.child_text("details"),
    };
    let errors: Vec<ApiError> = items(&root, "errors", &["code", "message", "details"])
        .into_iter()
        .map(api_error)
        .collect();
    let error = root.children.iter().find(|c| c.name == "error").map(api_error);
    let many = root.children.iter().filter(|c| c.name == "results").count() > 1;
    Ok(TrackResponse {
        results: match results.len() {
            0 => None,
            1 if !many => results.into_iter().next().map(|s| Results::One(Box::new(s))),
            _ => Some(Results::Many(results)),
        },
        success,
        errors: (!errors.is_empty()).then_some(errors),
        error,
        status_code: root.child_text("statusCode").and_then(|c| c.parse().ok()),
        message: root.child_text("message"),
    })
}

fn shipment(e: &Element) -> WireShipment {
    let events: Vec<WireEvent> = items(e, "tracking_events", EVENT_FIELDS)
        .into_iter()
        .map(|ev| WireEvent {
            event_datetime: ev.child_text("event_datetime"),
            status: ev.child_text("status"),
            details: ev.child_text("details"),
            other: ev.other_texts(EVENT_FIELDS),
        })
        .collect();
    let has_events = e.children.iter().any(|c| c.name == "tracking_events");
    WireShipment {
        order_number: e.child_text("order_number"),
        order_status: e.child_text("order_status"),
        carrier_name: e.child_text("carrier_name"),
        carrier_service: e.child_text("carrier_service"),
        tracking_number: e.child_text("tracking_number"),
        shipment_date: e.child_text("shipment_date"),
        tracking_status: e.child_text("tracking_status"),
        tracking_url: e.child_text("tracking_url"),
        last_updated_date: e.child_text("last_updated_date"),
        tracking_events: has_events.then_some(events),
        other: e.other_texts(SHIPMENT_FIELDS),
    }
}

const EVENT_FIELDS: &[&str] = &["event_datetime", "status", "details"];

const SHIPMENT_FIELDS: &[&str] = &[
    "order_number",
    "order_status",
    "carrier_name",
    "carrier_service",
    "tracking_number",
    "shipment_date",
    "tracking_status",
    "tracking_url",
    "last_updated_date",
    "tracking_events",
];

/// The items of a list field: each `<name>` child is an item when it directly holds one of
/// the item's `fields`; an empty one is an empty list; otherwise it is a wrapper and each of
/// its element children is an item.
fn items<'a>(parent: &'a Element, name: &str, fields: &[&str]) -> Vec<&'a Element> {
    let mut out = Vec::new();
    for child in parent.children.iter().filter(|c| c.name == name) {
        if child.children.iter().any(|c| fields.contains(&c.name.as_str())) {
            out.push(child);
        } else {
            out.extend(child.children.iter());
        }
    }
    out
}

/// A minimal element tree: names, text and children; attributes are not used by the API.
#[derive(Debug, Default)]
struct Element {
    name: String,
    text: String,
    children: Vec<Element>,
    /// `xsi:nil="true"` or similar: the value is null.
    nil: bool,
}

impl Element {
    fn child_text(&self, name: &str) -> Option<String> {
        let c = self.children.iter().find(|c| c.name == name)?;
        (!c.nil).then(|| c.text.trim().to_owned())
    }

    /// The text of every leaf child not named in `known` (unknown fields, kept as JSON keeps
    /// them); the first of repeated names wins.
    fn other_texts(&self, known: &[&str]) -> std::collections::BTreeMap<String, String> {
        let mut out = std::collections::BTreeMap::new();
        for c in &self.children {
            if !known.contains(&c.name.as_str()) && c.children.is_empty() && !c.nil {
                out.entry(c.name.clone()).or_insert_with(|| c.text.trim().to_owned());
            }
        }
        out
    }
}

fn tree(text: &str) -> Result<Element, String> {
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Element> = Vec::new();
    loop {
        let event = reader.read_event().map_err(|e| format!("malformed XML: {e}"))?;
        match event {
            Event::Start(start) => stack.push(element(&start)),
            Event::Empty(start) => {
                if stack.is_empty() {
                    return Ok(element(&start));
                }
                attach(&mut stack, element(&start))?;
            }
            Event::End(_) => {
                let done = stack.pop().ok_or("unbalanced closing tag")?;
                if stack.is_empty() {
                    return Ok(done);
                }
                attach(&mut stack, done)?;
            }
            Event::Text(t) => {
                let s = t.xml_content().map_err(|e| format!("bad text in XML: {e}"))?;
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&s);
                }
            }
            Event::CData(t) => {
                let s = t.decode().map_err(|e| format!("bad CDATA in XML: {e}"))?;
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&s);
                }
            }
            Event::GeneralRef(r) => {
                let name = r.decode().map_err(|e| format!("bad entity in XML: {e}"))?;
                let entity = format!("&{name};");
                let s = quick_xml::escape::unescape(&entity)
                    .map_err(|e| format!("unknown entity {entity} in XML: {e}"))?;
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&s);
                }
            }
            Event::Eof => return Err("the XML document ended before its root closed".into()),
            _ => {}
        }
    }
}

fn element(start: &quick_xml::events::BytesStart<'_>) -> Element {
    let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
    let nil = start
        .attributes()
        .flatten()
        .any(|a| a.key.local_name().as_ref() == b"nil" && a.value.as_ref() == b"true");
    Element { name, nil, ..Element::default() }
}

fn attach(stack: &mut [Element], element: Element) -> Result<(), String> {
    match stack.last_mut() {
        Some(parent) => {
            parent.children.push(element);
            Ok(())
        }
        None => Err("the XML document has no root element".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_spec_rendering() {
        let doc = "<GetTrackingResponse><results><order_number>17062</order_number>\
            <tracking_number>0000000000</tracking_number>\
            <tracking_events><event_datetime>2017-04-12T15:22:45</event_datetime>\
            <status>Dispatched</status><details>Picked up &amp; &#x41;</details></tracking_events>\
            <tracking_events><event_datetime>2017-04-12T17:53:59</event_datetime>\
            <status>In Transit</status><details/></tracking_events>\
            </results><success>true</success></GetTrackingResponse>";
        let r = parse(doc).unwrap();
        assert_eq!(r.success, Some(true));
        let s = r.results.unwrap().into_vec().remove(0);
        assert_eq!(s.order_number.as_deref(), Some("17062"));
        let ev = s.tracking_events.unwrap();
        assert_eq!(ev.len(), 2);
        assert_eq!(ev[0].details.as_deref(), Some("Picked up & A"));
        assert_eq!(ev[1].details.as_deref(), Some(""));
    }

    #[test]
    fn reads_wrapped_lists_and_errors() {
        let doc = r#"<?xml version="1.0"?><GetTrackingResponse>
            <results><TrackingResult><tracking_number>A</tracking_number>
              <tracking_events><TrackingEvent><status>Delivered</status></TrackingEvent>
              </tracking_events></TrackingResult>
              <TrackingResult><tracking_number>B</tracking_number></TrackingResult></results>
            <success>false</success>
            <errors><message>General Exception</message><details>x</details></errors>
            </GetTrackingResponse>"#;
        let r = parse(doc).unwrap();
        let all = r.results.unwrap().into_vec();
        assert_eq!(all.len(), 2);
        assert_eq!(
            all[0].tracking_events.as_ref().unwrap()[0].status.as_deref(),
            Some("Delivered")
        );
        assert_eq!(r.errors.unwrap()[0].message.as_deref(), Some("General Exception"));
    }

    #[test]
    fn rejects_other_documents() {
        assert!(
            parse("<html><body>Bad Gateway</body></html>")
                .unwrap_err()
                .contains("GetTrackingResponse")
        );
        assert!(parse("<GetTrackingResponse><results>").is_err());
        assert!(parse("not xml").is_err());
    }
}
