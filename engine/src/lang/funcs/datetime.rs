//! Date and time functions: formatdate, timeadd, timecmp. Timestamps are
//! strict RFC 3339 (as Terraform parses them, with its error wording),
//! durations are Go durations (`1h30m`, `-10s`, `1.5h`), and results are
//! printed as RFC 3339 without fractional seconds, keeping the offset.

use super::util::{Table, arg_err, fail, num, p, quote_go, reg};
use super::{FuncCtx, FuncError};
use crate::value::{Type, Value};

pub(super) fn register(t: &mut Table) {
    let s = || Type::String;
    reg(
        t,
        "formatdate",
        vec![p("format", s()), p("time", s())],
        s(),
        formatdate,
    );
    reg(
        t,
        "timeadd",
        vec![p("timestamp", s()), p("duration", s())],
        s(),
        timeadd,
    );
    reg(
        t,
        "timecmp",
        vec![p("timestamp_a", s()), p("timestamp_b", s())],
        Type::Number,
        timecmp,
    );
}

/// An instant with the UTC offset it was written with.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Tm {
    /// Seconds since the Unix epoch.
    secs: i64,
    /// Nanoseconds within the second.
    nanos: u32,
    /// Offset east of UTC in seconds.
    offset: i32,
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day number.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Strict RFC 3339 parsing with Terraform's messages.
pub(super) fn parse_rfc3339(s: &str) -> Result<Tm, String> {
    let e = |m: String| format!("not a valid RFC3339 timestamp: {m}");
    let b = s.as_bytes();
    let rest = |i: usize| s.get(i..).unwrap_or_default().to_string();
    let digits = |i: usize, n: usize| -> Option<u32> {
        let part = b.get(i..i + n)?;
        if part.iter().all(u8::is_ascii_digit) {
            std::str::from_utf8(part).ok()?.parse().ok()
        } else {
            None
        }
    };
    let expect = |i: usize, c: u8| -> Result<(), String> {
        match b.get(i) {
            None => Err(e(format!(
                "end of string where {} is expected",
                quote_go(&(c as char).to_string())
            ))),
            Some(x) if *x == c => Ok(()),
            Some(_) => Err(e(format!(
                "found {} where {} is expected",
                quote_go(&rest(i)),
                quote_go(&(c as char).to_string())
            ))),
        }
    };
    if s.is_empty() {
        return Err(e("end of string before year".into()));
    }
    let year = digits(0, 4).ok_or_else(|| e(format!("cannot use {} as year", quote_go(s))))?;
    expect(4, b'-')?;
    let month =
        digits(5, 2).ok_or_else(|| e(format!("cannot use {} as month", quote_go(&rest(5)))))?;
    if !(1..=12).contains(&month) {
        return Err(e(format!("cannot use {} as month", quote_go(&rest(7)))));
    }
    expect(7, b'-')?;
    let day = digits(8, 2)
        .ok_or_else(|| e(format!("cannot use {} as day of month", quote_go(&rest(8)))))?;
    if !(1..=31).contains(&day) {
        return Err(e(format!(
            "cannot use {} as day of month",
            quote_go(&rest(10))
        )));
    }
    if b.get(10) != Some(&b'T') {
        return Err(e("missing required time introducer 'T'".into()));
    }
    let two = |i: usize, what: &str| -> Result<u32, String> {
        if b.len() <= i {
            return Err(e(format!("end of string before {what}")));
        }
        digits(i, 2).ok_or_else(|| e(format!("{what} must have exactly two digits")))
    };
    let hour = two(11, "hour")?;
    if hour > 23 {
        return Err(e("hour must be between 0 and 23 inclusive".into()));
    }
    expect(13, b':')?;
    let minute = two(14, "minute")?;
    if minute > 59 {
        return Err(e("minute must be between 0 and 59 inclusive".into()));
    }
    expect(16, b':')?;
    if b.len() <= 17 {
        return Err(e("end of string before second".into()));
    }
    let second =
        digits(17, 2).ok_or_else(|| e(format!("cannot use {} as second", quote_go(&rest(17)))))?;
    if second > 59 {
        return Err(e("second must be between 0 and 59 inclusive".into()));
    }
    let mut i = 19;
    let mut nanos = 0u32;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return Err(e(format!(
                "cannot use {} as timestamp segment",
                quote_go(&rest(start - 1))
            )));
        }
        let frac = &s[start..i.min(start + 9)];
        nanos = format!("{frac:0<9}").parse().unwrap_or(0);
    }
    let offset = match b.get(i) {
        None => return Err(e("end of string before UTC offset".into())),
        Some(b'Z') => {
            i += 1;
            0
        }
        Some(sign @ (b'+' | b'-')) => {
            let bad = || e(format!("cannot use {} as UTC offset", quote_go(&rest(i))));
            let hh = digits(i + 1, 2).ok_or_else(bad)?;
            if b.get(i + 3) != Some(&b':') {
                return Err(bad());
            }
            let mm = digits(i + 4, 2).ok_or_else(bad)?;
            if hh > 23 || mm > 59 {
                return Err(bad());
            }
            let off = (hh * 3600 + mm * 60) as i32;
            let off = if *sign == b'-' { -off } else { off };
            i += 6;
            off
        }
        Some(_) => {
            let c = s[i..].chars().next().unwrap_or_default();
            return Err(e(format!(
                "cannot use {} as timestamp segment",
                quote_go(&c.to_string())
            )));
        }
    };
    if i < b.len() {
        return Err(e(format!(
            "extra text after timestamp: {}",
            quote_go(&rest(i))
        )));
    }
    let year = i64::from(year);
    if day > days_in_month(year, month) {
        return Err(e("day out of range".into()));
    }
    let local =
        days_from_civil(year, month, day) * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    Ok(Tm {
        secs: local - i64::from(offset),
        nanos,
        offset,
    })
}

/// Broken-down local time: (year, month, day, hour, minute, second, weekday 0=Sunday).
fn local(tm: &Tm) -> (i64, u32, u32, u32, u32, u32, u32) {
    let l = tm.secs + i64::from(tm.offset);
    let days = l.div_euclid(86_400);
    let sod = l.rem_euclid(86_400) as u32;
    let (y, m, d) = civil_from_days(days);
    let wd = (days + 4).rem_euclid(7) as u32;
    (y, m, d, sod / 3600, sod % 3600 / 60, sod % 60, wd)
}

fn offset_text(off: i32, colon: bool) -> String {
    let sign = if off < 0 { '-' } else { '+' };
    let a = off.unsigned_abs();
    if colon {
        format!("{sign}{:02}:{:02}", a / 3600, a % 3600 / 60)
    } else {
        format!("{sign}{:02}{:02}", a / 3600, a % 3600 / 60)
    }
}

/// RFC 3339 without fractional seconds; `Z` for a zero offset.
pub(super) fn format_rfc3339(tm: &Tm) -> String {
    let (y, mo, d, h, mi, s, _) = local(tm);
    let zone = if tm.offset == 0 {
        "Z".to_string()
    } else {
        offset_text(tm.offset, true)
    };
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{zone}")
}

/// Go's `time.ParseDuration`, in nanoseconds.
fn parse_duration(s: &str) -> Result<i128, String> {
    let invalid = || format!("time: invalid duration {}", quote_go(s));
    let (neg, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (int, after) = rest.split_at(int_len);
        let (frac, after) = match after.strip_prefix('.') {
            Some(a) => {
                let n = a.bytes().take_while(u8::is_ascii_digit).count();
                a.split_at(n)
            }
            None => ("", after),
        };
        if int.is_empty() && frac.is_empty() {
            return Err(invalid());
        }
        let unit_len = after
            .char_indices()
            .find(|(_, c)| *c == '.' || c.is_ascii_digit())
            .map(|(i, _)| i)
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let scale: i128 = match unit {
            "" => return Err(format!("time: missing unit in duration {}", quote_go(s))),
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            u => {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    quote_go(u),
                    quote_go(s)
                ));
            }
        };
        let whole: i128 = if int.is_empty() {
            0
        } else {
            int.parse().map_err(|_| invalid())?
        };
        let mut part = whole.checked_mul(scale).ok_or_else(invalid)?;
        if !frac.is_empty() {
            // Digits past the 18th cannot change a nanosecond count.
            let digits = &frac[..frac.len().min(18)];
            let f: i128 = digits.parse().map_err(|_| invalid())?;
            part += f * scale / 10i128.pow(digits.len() as u32);
        }
        total = total.checked_add(part).ok_or_else(invalid)?;
        if total > i128::from(i64::MAX) {
            return Err(invalid());
        }
        rest = next;
    }
    Ok(if neg { -total } else { total })
}

fn timeadd(_: &FuncCtx<'_>, a: Vec<Value>) -> Result<Value, FuncError> {
    let tm = parse_rfc3339(a[0].as_str().unwrap_or_default()).map_err(fail)?;
    let d = parse_duration(a[1].as_str().unwrap_or_default()).map_err(fail)?;
    let total = i128::from(tm.secs) * 1_000_000_000 + i128::from(tm.nanos) + d;
    let out = Tm {
        secs: total.div_euclid(1_000_000_000) as i64,
        nanos: total.rem_euclid(1_000_000_000) as u32,
        offset: tm.offset,
    };
    Ok(Value::String(format_rfc3339(&out)))
}

fn timecmp(_: &FuncCtx<'_>, a: Vec<Value>) -> Result<Value, FuncError> {
    let x = parse_rfc3339(a[0].as_str().unwrap_or_default())
        .map_err(|e| arg_err(0, "timestamp_a", e))?;
    let y = parse_rfc3339(a[1].as_str().unwrap_or_default())
        .map_err(|e| arg_err(1, "timestamp_b", e))?;
    let o = (x.secs, x.nanos).cmp(&(y.secs, y.nanos));
    Ok(num(o as i64))
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// Splits a format spec into literal runs, quoted literals and verb runs.
fn tokens(spec: &str) -> Vec<String> {
    let c: Vec<char> = spec.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        let start = i;
        if c[i] == '\'' {
            if c.get(i + 1) == Some(&'\'') {
                i += 2;
            } else {
                i += 1;
                loop {
                    match c.get(i) {
                        None => break,
                        Some('\'') if c.get(i + 1) == Some(&'\'') => i += 2,
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(_) => i += 1,
                    }
                }
            }
        } else if c[i].is_ascii_alphabetic() {
            while i < c.len() && c[i] == c[start] {
                i += 1;
            }
        } else {
            while i < c.len() && c[i] != '\'' && !c[i].is_ascii_alphabetic() {
                i += 1;
            }
        }
        out.push(c[start..i].iter().collect());
    }
    out
}

fn formatdate(_: &FuncCtx<'_>, a: Vec<Value>) -> Result<Value, FuncError> {
    let spec = a[0].as_str().unwrap_or_default();
    let tm = parse_rfc3339(a[1].as_str().unwrap_or_default()).map_err(|e| arg_err(1, "time", e))?;
    let (y, mo, d, h, mi, s, wd) = local(&tm);
    let mut out = String::new();
    for tok in tokens(spec) {
        let verb_err = |m: &str| {
            let q = quote_go(&tok);
            arg_err(
                0,
                "format",
                if m.is_empty() {
                    format!("invalid date format verb {q}")
                } else {
                    format!("invalid date format verb {q}: {m}")
                },
            )
        };
        let first = tok.chars().next().unwrap_or_default();
        let n = tok.chars().count();
        match first {
            '\'' => {
                if n < 2 || !tok.ends_with('\'') {
                    return Err(arg_err(0, "format", "unterminated literal '"));
                }
                if n == 2 {
                    out.push('\'');
                } else {
                    out.push_str(&tok[1..tok.len() - 1].replace("''", "'"));
                }
            }
            'Y' => match n {
                2 => out.push_str(&format!("{:02}", y.rem_euclid(100))),
                4 => out.push_str(&format!("{y:04}")),
                _ => return Err(verb_err("year must either be \"YY\" or \"YYYY\"")),
            },
            'M' => match n {
                1 => out.push_str(&mo.to_string()),
                2 => out.push_str(&format!("{mo:02}")),
                3 => out.push_str(&MONTHS[mo as usize - 1][..3]),
                4 => out.push_str(MONTHS[mo as usize - 1]),
                _ => {
                    return Err(verb_err(
                        "month must be \"M\", \"MM\", \"MMM\", or \"MMMM\"",
                    ));
                }
            },
            'D' => match n {
                1 => out.push_str(&d.to_string()),
                2 => out.push_str(&format!("{d:02}")),
                _ => return Err(verb_err("day of month must either be \"D\" or \"DD\"")),
            },
            'E' => match n {
                3 => out.push_str(&DAYS[wd as usize][..3]),
                4 => out.push_str(DAYS[wd as usize]),
                _ => return Err(verb_err("day of week must either be \"EEE\" or \"EEEE\"")),
            },
            'h' => match n {
                1 => out.push_str(&h.to_string()),
                2 => out.push_str(&format!("{h:02}")),
                _ => return Err(verb_err("24-hour must either be \"h\" or \"hh\"")),
            },
            'H' => {
                let h12 = if h % 12 == 0 { 12 } else { h % 12 };
                match n {
                    1 => out.push_str(&h12.to_string()),
                    2 => out.push_str(&format!("{h12:02}")),
                    _ => return Err(verb_err("12-hour must either be \"H\" or \"HH\"")),
                }
            }
            'A' | 'a' => {
                if n != 2 {
                    return Err(verb_err(&format!("must be \"{first}{first}\"")));
                }
                let pm = h >= 12;
                out.push_str(match (first, pm) {
                    ('A', false) => "AM",
                    ('A', true) => "PM",
                    (_, false) => "am",
                    (_, true) => "pm",
                });
            }
            'm' => match n {
                1 => out.push_str(&mi.to_string()),
                2 => out.push_str(&format!("{mi:02}")),
                _ => return Err(verb_err("minute must either be \"m\" or \"mm\"")),
            },
            's' => match n {
                1 => out.push_str(&s.to_string()),
                2 => out.push_str(&format!("{s:02}")),
                _ => return Err(verb_err("second must either be \"s\" or \"ss\"")),
            },
            'Z' => match n {
                1 if tm.offset == 0 => out.push('Z'),
                1 => out.push_str(&offset_text(tm.offset, true)),
                3 if tm.offset == 0 => out.push_str("UTC"),
                3 | 4 => out.push_str(&offset_text(tm.offset, false)),
                5 => out.push_str(&offset_text(tm.offset, true)),
                _ => return Err(verb_err("timezone must be Z, ZZZZ, or ZZZZZ")),
            },
            c if c.is_ascii_alphabetic() => return Err(verb_err("")),
            _ => out.push_str(&tok),
        }
    }
    Ok(Value::String(out))
}

#[cfg(test)]
#[path = "datetime_tests.rs"]
mod tests;
