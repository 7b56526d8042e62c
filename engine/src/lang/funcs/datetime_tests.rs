//! Expectations from cty's datetime tests and Terraform's documentation.

use super::super::testing::*;

#[test]
fn formatdate_matches_terraform() {
    let ts = || s("2006-01-02T15:04:05Z");
    let f = |spec: &str| vec![s(spec), ts()];
    run(vec![
        ("empty", "formatdate", f(""), ok(s(""))),
        ("date", "formatdate", f("YYYY-MM-DD"), ok(s("2006-01-02"))),
        (
            "quoted quote",
            "formatdate",
            f("EEE, MMM D ''YY"),
            ok(s("Mon, Jan 2 '06")),
        ),
        ("24-hour", "formatdate", f("hh:mm:ss"), ok(s("15:04:05"))),
        (
            "12-hour and literal",
            "formatdate",
            f("H 'o''clock' AA"),
            ok(s("3 o'clock PM")),
        ),
        (
            "ZZZZ",
            "formatdate",
            f("hh:mm:ssZZZZ"),
            ok(s("15:04:05+0000")),
        ),
        (
            "ZZZZZ",
            "formatdate",
            f("hh:mm:ssZZZZZ"),
            ok(s("15:04:05+00:00")),
        ),
        ("month name", "formatdate", f("MMMM"), ok(s("January"))),
        ("weekday name", "formatdate", f("EEEE"), ok(s("Monday"))),
        ("am/pm", "formatdate", f("aa"), ok(s("pm"))),
        (
            "RFC 3339",
            "formatdate",
            f("YYYY-MM-DD'T'hh:mm:ssZ"),
            ok(s("2006-01-02T15:04:05Z")),
        ),
        (
            "RFC 1123",
            "formatdate",
            f("EEE, DD MMM YYYY hh:mm:ss ZZZ"),
            ok(s("Mon, 02 Jan 2006 15:04:05 UTC")),
        ),
        (
            "offset kept",
            "formatdate",
            vec![
                s("EEEE, DD-MMM-YY hh:mm:ss ZZZ"),
                s("2022-03-01T00:23:45-01:00"),
            ],
            ok(s("Tuesday, 01-Mar-22 00:23:45 -0100")),
        ),
        (
            "zero offset is UTC",
            "formatdate",
            vec![s("YYYY-MM-DD'T'hh:mm:ssZ"), s("2022-03-01T00:23:45+00:00")],
            ok(s("2022-03-01T00:23:45Z")),
        ),
        (
            "old dates",
            "formatdate",
            vec![s("EEEE, DD-MMM-YY"), s("1900-01-01T00:00:00Z")],
            ok(s("Monday, 01-Jan-00")),
        ),
        (
            "bad year verb",
            "formatdate",
            f("Y"),
            err("invalid date format verb \"Y\": year must either be \"YY\" or \"YYYY\""),
        ),
        (
            "bad A",
            "formatdate",
            f("A"),
            err("invalid date format verb \"A\": must be \"AA\""),
        ),
        (
            "unterminated",
            "formatdate",
            f("'blah blah"),
            err("unterminated literal '"),
        ),
        (
            "lone quote",
            "formatdate",
            f("'"),
            err("unterminated literal '"),
        ),
        (
            "unknown verb",
            "formatdate",
            f("q"),
            err("invalid date format verb \"q\""),
        ),
    ]);
}

#[test]
fn timestamps_parse_strictly() {
    let bad = |ts: &str| vec![s(""), s(ts)];
    run(vec![
        (
            "empty",
            "formatdate",
            bad(""),
            err("not a valid RFC3339 timestamp: end of string before year"),
        ),
        (
            "date only",
            "formatdate",
            bad("2017-01-02"),
            err("not a valid RFC3339 timestamp: missing required time introducer 'T'"),
        ),
        (
            "lower-case t",
            "formatdate",
            bad("2017-12-02t00:00:00Z"),
            err("missing required time introducer 'T'"),
        ),
        (
            "wrong separator",
            "formatdate",
            bad("2017:01:02"),
            err("found \":01:02\" where \"-\" is expected"),
        ),
        (
            "year only",
            "formatdate",
            bad("2017"),
            err("end of string where \"-\" is expected"),
        ),
        (
            "no hour",
            "formatdate",
            bad("2017-01-02T"),
            err("end of string before hour"),
        ),
        (
            "no minutes",
            "formatdate",
            bad("2017-01-02T00"),
            err("end of string where \":\" is expected"),
        ),
        (
            "no offset",
            "formatdate",
            bad("2017-01-02T00:00:00"),
            err("end of string before UTC offset"),
        ),
        (
            "hour 26",
            "formatdate",
            bad("2017-01-02T26:00:00Z"),
            err("hour must be between 0 and 23 inclusive"),
        ),
        (
            "month 13",
            "formatdate",
            bad("2017-13-02T00:00:00Z"),
            err("cannot use \"-02T00:00:00Z\" as month"),
        ),
        (
            "February 31",
            "formatdate",
            bad("2017-02-31T00:00:00Z"),
            err("day out of range"),
        ),
        (
            "short year",
            "formatdate",
            bad("2-12-02T00:00:00Z"),
            err("cannot use \"2-12-02T00:00:00Z\" as year"),
        ),
        (
            "one-digit hour",
            "formatdate",
            bad("2000-01-01T1:12:34Z"),
            err("hour must have exactly two digits"),
        ),
        (
            "one-digit minute",
            "formatdate",
            bad("2000-01-01T01:1:34Z"),
            err("minute must have exactly two digits"),
        ),
        (
            "one-digit second",
            "formatdate",
            bad("2000-01-01T01:01:1Z"),
            err("cannot use \"1Z\" as second"),
        ),
        (
            "comma fraction",
            "formatdate",
            bad("2000-01-01T00:00:00,000Z"),
            err("cannot use \",\" as timestamp segment"),
        ),
        (
            "offset hours",
            "formatdate",
            bad("2000-01-01T00:00:00+24:00"),
            err("cannot use \"+24:00\" as UTC offset"),
        ),
        (
            "offset minutes",
            "formatdate",
            bad("2000-01-01T00:00:00+00:60"),
            err("cannot use \"+00:60\" as UTC offset"),
        ),
    ]);
}

#[test]
fn timeadd_and_timecmp_match_terraform() {
    run(vec![
        (
            "timeadd minutes",
            "timeadd",
            vec![s("2017-11-22T00:00:00Z"), s("10m")],
            ok(s("2017-11-22T00:10:00Z")),
        ),
        (
            "timeadd negative hours",
            "timeadd",
            vec![s("2017-11-22T00:00:00Z"), s("-1h")],
            ok(s("2017-11-21T23:00:00Z")),
        ),
        (
            "timeadd compound",
            "timeadd",
            vec![s("2017-11-22T00:00:00Z"), s("1h30m15.5s")],
            ok(s("2017-11-22T01:30:15Z")),
        ),
        (
            "timeadd keeps the offset",
            "timeadd",
            vec![s("2024-02-28T23:30:00+02:00"), s("24h")],
            ok(s("2024-02-29T23:30:00+02:00")),
        ),
        (
            "timeadd fractional seconds drop",
            "timeadd",
            vec![s("2017-11-22T00:00:00.9Z"), s("0.2s")],
            ok(s("2017-11-22T00:00:01Z")),
        ),
        (
            "timeadd bad unit",
            "timeadd",
            vec![s("2017-11-22T00:00:00Z"), s("1d")],
            err("time: unknown unit \"d\" in duration \"1d\""),
        ),
        (
            "timeadd overflowing duration",
            "timeadd",
            vec![
                s("2017-11-22T00:00:00Z"),
                s("99999999999999999999999999999999999h"),
            ],
            err("time: invalid duration"),
        ),
        (
            "timeadd missing unit",
            "timeadd",
            vec![s("2017-11-22T00:00:00Z"), s("1")],
            err("time: missing unit in duration \"1\""),
        ),
        (
            "timecmp earlier",
            "timecmp",
            vec![s("2017-11-22T00:00:00Z"), s("2017-11-22T01:00:00Z")],
            ok(n("-1")),
        ),
        (
            "timecmp same instant, other offsets",
            "timecmp",
            vec![s("2017-11-22T01:00:00+01:00"), s("2017-11-22T00:00:00Z")],
            ok(n("0")),
        ),
        (
            "timecmp later",
            "timecmp",
            vec![s("2017-11-22T01:00:00Z"), s("2017-11-22T00:59:59Z")],
            ok(n("1")),
        ),
        (
            "timecmp bad",
            "timecmp",
            vec![s("x"), s("2017-11-22T00:00:00Z")],
            err("Invalid value for \"timestamp_a\" parameter: not a valid RFC3339 timestamp"),
        ),
    ]);
}
