//! A generated HTTP response: a model of what a server sends, from which both the bytes and the
//! decoder's expected result are derived, and the proptest strategies that build it.

use crawl::http::{HttpError, Limits, Response};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{Index, select};

/// One header line: `name:` OWS `value` OWS. The decoder must drop the optional white space.
#[derive(Clone, Debug)]
pub(crate) struct Field {
    name: String,
    value: String,
    ows: (&'static str, &'static str),
}

/// A status line and its header lines.
#[derive(Clone, Debug)]
pub(crate) struct Head {
    version: u8,
    status: u16,
    /// `None`: no reason phrase and no space before it, which servers do send.
    reason: Option<String>,
    fields: Vec<Field>,
}

/// How the end of the body is told.
#[derive(Clone, Debug)]
pub(crate) enum Framing {
    /// `Content-Length`.
    Length,
    /// Each chunk as its size line (with extensions and CRLF) and its size; then the last-chunk line
    /// and the trailer section (ending in its empty line).
    Chunked { chunks: Vec<(Vec<u8>, usize)>, last: Vec<u8>, trailers: Vec<u8> },
    /// Neither: the body runs to the close of the connection.
    Close,
}

/// A whole response as sent: interim heads, the final head, the body and its framing.
#[derive(Clone, Debug)]
pub(crate) struct Generated {
    interims: Vec<Head>,
    head: Head,
    pub(crate) framing: Framing,
    pub(crate) body: Vec<u8>,
}

impl Head {
    fn encode(&self) -> Vec<u8> {
        let reason = self.reason.as_ref().map(|reason| format!(" {reason}")).unwrap_or_default();
        format!("HTTP/1.{} {}{reason}\r\n{}", self.version, self.status, field_lines(&self.fields))
            .into_bytes()
    }
}

/// Header (or trailer) lines and the empty line that ends them.
fn field_lines(fields: &[Field]) -> String {
    let line =
        |Field { name, value, ows: (before, after) }: &Field| format!("{name}:{before}{value}{after}\r\n");
    fields.iter().map(line).chain(["\r\n".to_owned()]).collect()
}

impl Generated {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out: Vec<u8> = self.interims.iter().chain([&self.head]).flat_map(Head::encode).collect();
        match &self.framing {
            Framing::Length | Framing::Close => out.extend_from_slice(&self.body),
            Framing::Chunked { chunks, last, trailers } => {
                let mut data = &self.body[..];
                for (line, size) in chunks {
                    let (chunk, rest) = data.split_at(*size);
                    out.extend([&line[..], chunk, b"\r\n"].concat());
                    data = rest;
                }
                out.extend([&last[..], trailers].concat());
            }
        }
        out
    }

    /// The lines the decoder bounds by `max_head`: every head, chunk-size line and the trailers.
    pub(crate) fn head_bounded_sizes(&self) -> Vec<usize> {
        let mut sizes: Vec<usize> =
            self.interims.iter().chain([&self.head]).map(|h| h.encode().len()).collect();
        if let Framing::Chunked { chunks, last, trailers } = &self.framing {
            sizes.extend(chunks.iter().map(|(line, _)| line.len()).chain([last.len(), trailers.len()]));
        }
        sizes
    }

    /// What decoding must give under `limits`: the first limit crossed, in stream order, else the
    /// final response. Each head is bounded on its own (an interim one is dropped before the next is
    /// read); so is each chunk-size line; the trailer lines share one budget.
    pub(crate) fn expected(&self, limits: Limits) -> Result<Response, HttpError> {
        let head_too_large = Err(HttpError::HeadTooLarge { limit: limits.max_head });
        let body_too_large = Err(HttpError::BodyTooLarge { limit: limits.max_body });
        if self.interims.iter().chain([&self.head]).any(|head| head.encode().len() > limits.max_head) {
            return head_too_large;
        }
        if let Framing::Chunked { chunks, last, trailers } = &self.framing {
            let mut body_len = 0;
            for (line, size) in chunks {
                if line.len() > limits.max_head {
                    return head_too_large;
                }
                body_len += size;
                if body_len > limits.max_body {
                    return body_too_large;
                }
            }
            if last.len() > limits.max_head || trailers.len() > limits.max_head {
                return head_too_large;
            }
        } else if self.body.len() > limits.max_body {
            return body_too_large;
        }
        let headers = self.head.fields.iter().map(|f| (f.name.clone(), f.value.clone())).collect();
        Ok(Response {
            version: self.head.version,
            status: self.head.status,
            headers,
            body: self.body.clone(),
        })
    }
}

/// `text` with the letters whose bit is set in `mask` upper-cased: names are case-insensitive.
fn mixed_case(text: &str, mask: u64) -> String {
    let flip = |(i, c): (usize, char)| if mask >> (i % 64) & 1 == 1 { c.to_ascii_uppercase() } else { c };
    text.char_indices().map(flip).collect()
}

/// A token (RFC 9110 section 5.6.2): header names and chunk extension names.
const TOKEN: &str = "[!#$%&'*+.^_`|~0-9A-Za-z-]{1,10}";
/// A header value: visible ASCII or any non-ASCII (obs-text), inner spaces and tabs, none at the ends.
const VALUE: &str = "([!-~\u{a1}-\u{10ffff}]([ \t!-~\u{a1}-\u{10ffff}]{0,16}[!-~\u{a1}-\u{10ffff}])?)?";
const OWS: [&str; 4] = ["", " ", "\t", " \t "];

fn field() -> impl Strategy<Value = Field> {
    (TOKEN, VALUE, select(&OWS[..]), select(&OWS[..]))
        .prop_filter("framing headers are placed on purpose", |(name, ..)| {
            !name.eq_ignore_ascii_case("content-length") && !name.eq_ignore_ascii_case("transfer-encoding")
        })
        .prop_map(|(name, value, before, after)| Field { name, value, ows: (before, after) })
}

fn head(statuses: impl Strategy<Value = u16>) -> impl Strategy<Value = Head> {
    let reason = proptest::option::of("[\t !-~\u{80}-\u{ff}]{0,12}");
    (0..=1u8, statuses, reason, vec(field(), 0..6)).prop_map(|(version, status, reason, fields)| Head {
        version,
        status,
        reason,
        fields,
    })
}

/// Chunk extensions: `;name`, `;name=token` or `;name="quoted ; string"`, with optional white space.
fn extensions() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        Just(String::new()),
        TOKEN.prop_map(|t| format!("={t}")),
        r#"([\t !#-\[\]-~]|\\[\t !-~]){0,8}"#.prop_map(|q| format!("=\"{q}\""))
    ];
    let one =
        (select(&OWS[..]), TOKEN, value).prop_map(|(ws, name, value)| format!("{ws};{ws}{name}{value}"));
    vec(one, 0..3).prop_map(|exts| exts.concat())
}

/// A chunk-size line: hex in mixed case with leading zeros, extensions, CRLF.
fn size_line(size: usize, (zeros, mask, ext): &(usize, u64, String)) -> Vec<u8> {
    let hex = mixed_case(&format!("{size:x}"), *mask);
    format!("{}{hex}{ext}\r\n", "0".repeat(*zeros)).into_bytes()
}

fn framing(body_len: usize) -> impl Strategy<Value = Framing> {
    // How each size line is written: leading zeros, hex case, extensions.
    let line = || (0..3usize, any::<u64>(), extensions());
    let chunked = (vec(any::<Index>(), 0..8), vec(line(), 9), line(), vec(field(), 0..4)).prop_map(
        move |(cuts, lines, last, trailer_fields)| {
            let mut ends: Vec<usize> = cuts.iter().map(|cut| cut.index(body_len.max(1))).collect();
            ends.push(body_len);
            ends.sort_unstable();
            ends.dedup();
            // A chunk of size 0 would end the body: only non-empty pieces become chunks.
            let sizes = ends.iter().scan(0, |start, &end| Some(end - std::mem::replace(start, end)));
            let sizes: Vec<usize> = sizes.filter(|&size| size > 0).collect();
            let chunks =
                sizes.iter().zip(&lines).map(|(&size, line)| (size_line(size, line), size)).collect();
            let trailers = field_lines(&trailer_fields).into_bytes();
            Framing::Chunked { chunks, last: size_line(0, &last), trailers }
        },
    );
    prop_oneof![Just(Framing::Length), chunked, Just(Framing::Close)]
}

/// Interim responses, usually none: `100 Continue`, `103 Early Hints` and any other 1xx but 101.
fn interims() -> impl Strategy<Value = Vec<Head>> {
    let interim = head((100..200u16).prop_filter("101 is final", |status| *status != 101));
    prop_oneof![3 => Just(Vec::new()), 1 => vec(interim, 1..3)]
}

prop_compose! {
    /// A valid response: the body first, since the chunked framing cuts it into chunks.
    pub(crate) fn generated()(body in vec(any::<u8>(), 0..400))(
        framing in framing(body.len()),
        body in Just(body),
        interims in interims(),
        mut head in head((200..1000u16).prop_filter("204 and 304 have no body", |s| *s != 204 && *s != 304)),
        at in any::<Index>(),
        mask in any::<u64>(),
        te in select(&["chunked", "gzip, chunked", "gzip,chunked"][..]),
    ) -> Generated {
        // The framing header, its name and value in mixed case, at any position among the others.
        let framing_field = match framing {
            Framing::Length => Some(("content-length", body.len().to_string())),
            Framing::Chunked { .. } => Some(("transfer-encoding", mixed_case(te, mask.rotate_left(20)))),
            Framing::Close => None,
        };
        if let Some((name, value)) = framing_field {
            let field = Field { name: mixed_case(name, mask), value, ows: (" ", "") };
            head.fields.insert(at.index(head.fields.len() + 1), field);
        }
        Generated { interims, head, framing, body }
    }
}

// ---------------------------------------------------------------------------------------------
// Nearly responses, for the fuzzing property

/// What a mangled response puts where a number or a line belongs.
fn wild_token() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<u64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| format!("{n:x}\r\n")),
        "[0-9a-fA-F,;=: \"\r\n]{0,12}",
        select(&["chunked", "gzip", "\r\n\r\n", "HTTP/1.1 100 Continue\r\n\r\n"][..]).prop_map(String::from),
    ]
}

/// Bytes that are nearly a response: a generated one with a wild framing header and a few edits.
/// Uniformly random bytes almost never get past the status line; these reach the body decoders.
pub(crate) fn mangled() -> impl Strategy<Value = Vec<u8>> {
    let framing = proptest::option::of((select(&["Content-Length", "Transfer-Encoding"][..]), wild_token()));
    let edits = vec((any::<Index>(), 0..4usize, wild_token()), 0..3);
    (generated(), framing, edits).prop_map(|(mut generated, framing, edits)| {
        if let Some((name, value)) = framing {
            let fields = &mut generated.head.fields;
            fields.retain(|f| !f.name.eq_ignore_ascii_case(name));
            fields.push(Field { name: name.to_owned(), value, ows: (" ", "") });
        }
        let mut bytes = generated.encode();
        for (at, removed, token) in edits {
            let at = at.index(bytes.len() + 1);
            bytes.splice(at..(at + removed).min(bytes.len()), token.into_bytes());
        }
        bytes
    })
}
