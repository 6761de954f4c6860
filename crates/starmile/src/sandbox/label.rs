//! The sandbox's parcel and order labels: an A6 PDF (105 × 148 mm) with the Starmile
//! tracking number as a Code 128 barcode, the sender block (the partner and its receiving
//! warehouse), the recipient block (name, contact, address or pickup point) and the
//! parcel's reference, weight, size and declared contents.
//!
//! Drawn with `pdf-writer` (base-14 Helvetica, so no font is embedded) and `barcoders`'
//! Code 128 encoder (code set B, which covers every tracking-number character).

use barcoders::sym::code128::Code128;
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};

use super::store::LabelData;

/// A6 in PDF points (1/72 inch): 105 mm × 148 mm.
const WIDTH: f32 = 297.64;
const HEIGHT: f32 = 419.53;
const MARGIN: f32 = 18.0;

/// Renders a label.
///
/// # Errors
/// The tracking number holds a character Code 128 set B cannot encode.
pub(crate) fn render(data: &LabelData, sender: &str, warehouse: &str) -> Result<Vec<u8>, String> {
    let modules = Code128::new(format!("\u{0181}{}", data.tracking_number))
        .map_err(|e| format!("cannot encode {:?} as Code 128: {e}", data.tracking_number))?
        .encode();
    let (catalog, tree, page, font, bold, contents) =
        (Ref::new(1), Ref::new(2), Ref::new(3), Ref::new(4), Ref::new(5), Ref::new(6));
    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids([page]).count(1);
    let mut p = pdf.page(page);
    p.media_box(Rect::new(0.0, 0.0, WIDTH, HEIGHT));
    p.parent(tree);
    p.contents(contents);
    p.resources().fonts().pair(Name(b"F1"), font).pair(Name(b"F2"), bold);
    p.finish();
    pdf.type1_font(font)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold)
        .base_font(Name(b"Helvetica-Bold"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));

    let mut c = Content::new();
    let mut y = HEIGHT - MARGIN - 14.0;
    text(&mut c, true, 14.0, MARGIN, y, "STARMILE");
    text(
        &mut c,
        false,
        9.0,
        WIDTH - MARGIN - 110.0,
        y + 2.0,
        &format!("{} · {}", data.service, data.position),
    );
    y -= 10.0;
    rule(&mut c, y);

    // The barcode: quiet zones of 10 modules each side, bars 60 pt tall.
    let count = modules.len() as f32;
    let module = ((WIDTH - 2.0 * MARGIN) / (count + 20.0)).min(1.8);
    let left = (WIDTH - module * count) / 2.0;
    let bar_height = 60.0;
    y -= 8.0 + bar_height;
    c.set_fill_gray(0.0);
    for (i, m) in modules.iter().enumerate() {
        if *m == 1 {
            c.rect(left + module * i as f32, y, module, bar_height);
        }
    }
    c.fill_nonzero();
    y -= 14.0;
    let number_width = data.tracking_number.len() as f32 * 7.3;
    text(&mut c, true, 12.0, (WIDTH - number_width) / 2.0, y, &data.tracking_number);
    y -= 10.0;
    rule(&mut c, y);

    y -= 14.0;
    text(&mut c, true, 8.0, MARGIN, y, "FROM");
    y -= 12.0;
    text(&mut c, false, 10.0, MARGIN, y, sender);
    y -= 12.0;
    text(&mut c, false, 9.0, MARGIN, y, &format!("via Starmile receiving warehouse {warehouse}"));
    y -= 10.0;
    rule(&mut c, y);

    y -= 14.0;
    text(&mut c, true, 8.0, MARGIN, y, "TO");
    for line in recipient_lines(data) {
        y -= 13.0;
        text(&mut c, false, 11.0, MARGIN, y, &line);
    }
    y -= 10.0;
    rule(&mut c, y);

    y -= 13.0;
    text(&mut c, false, 9.0, MARGIN, y, &format!("Order ref: {}", data.reference));
    if let Some(m) = &data.merchant {
        y -= 11.0;
        text(&mut c, false, 9.0, MARGIN, y, &format!("Merchant tracking: {m}"));
    }
    let mut size = Vec::new();
    if let Some(g) = data.weight_grams {
        size.push(format!("{:.3} kg", f64::from(g) / 1000.0));
    }
    if let Some((l, w, h)) = data.dimensions {
        size.push(format!("{l} x {w} x {h} mm"));
    }
    if !size.is_empty() {
        y -= 11.0;
        text(&mut c, false, 9.0, MARGIN, y, &size.join("   "));
    }
    if !data.products.is_empty() {
        y -= 13.0;
        text(&mut c, true, 8.0, MARGIN, y, "CONTENTS");
        for p in data.products.iter().take(5) {
            let mut line = format!("{} x {}", p.quantity, p.name);
            if let Some(hs) = &p.hs_code {
                line.push_str(&format!("  HS {hs}"));
            }
            if let (Some(v), Some(cur)) = (&p.declared_value, &p.currency) {
                line.push_str(&format!("  {v} {cur}"));
            }
            y -= 10.0;
            text(&mut c, false, 8.0, MARGIN, y, &line);
        }
        if data.products.len() > 5 {
            y -= 10.0;
            text(&mut c, false, 8.0, MARGIN, y, &format!("… and {} more", data.products.len() - 5));
        }
    }
    pdf.stream(contents, &c.finish());
    Ok(pdf.finish())
}

fn recipient_lines(data: &LabelData) -> Vec<String> {
    let Some(info) = &data.info else {
        return vec![format!("Destination: {}", data.destination_country)];
    };
    let (r, d) = (&info.recipient, &info.destination);
    let mut lines = Vec::new();
    lines.extend(r.name.clone());
    let contact: Vec<&str> =
        [r.phone.as_deref(), r.email.as_deref()].into_iter().flatten().collect();
    if !contact.is_empty() {
        lines.push(contact.join("  "));
    }
    if let Some(id) = d.pudo_id {
        lines.push(format!("Pickup point #{id}"));
    } else if let Some(id) = d.locker_id {
        lines.push(format!("Parcel locker #{id}"));
    } else {
        lines.extend(d.address_first.clone());
        lines.extend(d.address_second.clone());
        let place: Vec<&str> = [d.region.as_deref(), d.parent_region.as_deref(), d.zip.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        if !place.is_empty() {
            lines.push(place.join(", "));
        }
    }
    lines.push(data.destination_country.to_owned());
    lines
}

fn rule(c: &mut Content, y: f32) {
    c.set_line_width(0.8);
    c.move_to(MARGIN, y);
    c.line_to(WIDTH - MARGIN, y);
    c.stroke();
}

fn text(c: &mut Content, bold: bool, size: f32, x: f32, y: f32, s: &str) {
    c.begin_text();
    c.set_font(Name(if bold { b"F2" } else { b"F1" }), size);
    c.next_line(x, y);
    c.show(Str(&win_ansi(s)));
    c.end_text();
}

/// Text in WinAnsi (Latin-1 for the printable range): anything else becomes `?`, so a
/// name in another script still prints something rather than garbage.
fn win_ansi(s: &str) -> Vec<u8> {
    s.chars()
        .map(|ch| match ch {
            '·' => 0xB7,
            '…' => 0x85,
            c if (' '..='~').contains(&c) => c as u8,
            c if ('\u{a0}'..='\u{ff}').contains(&c) => u8::try_from(u32::from(c)).unwrap_or(b'?'),
            _ => b'?',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_a6_pdfs() {
        let data = LabelData {
            tracking_number: "STM000000124".into(),
            reference: "PO-1".into(),
            merchant: Some("TRK-1".into()),
            position: "1/1".into(),
            service: "Standard",
            destination_country: "NZ",
            weight_grams: Some(1200),
            dimensions: Some((300, 200, 100)),
            products: Vec::new(),
            info: None,
        };
        let pdf = render(&data, "Partner A (Abşeron)", "SYD1").unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("/MediaBox [0 0 297.64 419.53]"), "A6");
        assert_eq!(win_ansi("Abşeron é"), b"Ab?eron \xe9");
    }
}
