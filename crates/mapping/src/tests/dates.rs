//! Dates, durations and time zones with Go layouts.

use super::support::check;

#[test]
fn date_parses_expr_default_layouts() {
    check(&[
        ("date('2023-08-14').Format('2006-01-02')", "\"2023-08-14\""),
        ("date('15:04:05').Format('15:04:05')", "\"15:04:05\""),
        ("date('2023-08-14 10:30:00').Hour()", "10"),
        ("date('2023-08-14T10:30:00Z').Minute()", "30"),
        ("date('2023-08-14T10:30:00+02:00').Hour()", "10"),
        ("date('14 Aug 23 10:30 UTC').Day()", "14"),
        ("date('Monday, 14-Aug-23 10:30:00 UTC').Year()", "2023"),
        ("date('Mon, 14 Aug 2023 10:30:00 UTC').Month()", "8"),
        ("date('2023-02-30')", "error: invalid date 2023-02-30"),
        ("date('yesterday')", "error: invalid date yesterday"),
    ]);
}

#[test]
fn date_with_a_layout_and_a_time_zone() {
    check(&[
        ("date('14/08/2023', '02/01/2006').Format('Jan 2, 2006')", "\"Aug 14, 2023\""),
        (
            "date('2023-01-15 08:00:00', '2006-01-02 15:04:05', 'America/New_York').Format('2006-01-02T15:04:05Z07:00')",
            "\"2023-01-15T08:00:00-05:00\"",
        ),
        (
            "date(timezone('Europe/Zurich'), '2023-08-14 00:00:00', '2006-01-02 15:04:05').Format('Z07:00 MST')",
            "\"+02:00 CEST\"",
        ),
        ("date('2023-02-30', '2006-01-02')", "error: parsing time \"2023-02-30\": day out of range"),
        (
            "date('2023-13-01', '2006-01-02')",
            "error: parsing time \"2023-13-01\": month out of range",
        ),
        (
            "date('2023/08/14', '2006-01-02')",
            "error: parsing time \"2023/08/14\" as \"2006-01-02\": cannot parse \"/08/14\" as \"-\"",
        ),
        ("date('2023-08-14x', '2006-01-02')", "error: parsing time \"2023-08-14x\": extra text: \"x\""),
        ("date('5:07PM', '3:04PM').Hour()", "17"),
        ("date('2023-08-14 10:30:00.25', '2006-01-02 15:04:05').Nanosecond()", "250000000"),
        ("date('2023-08-14', '2006-01-02', 'Nowhere/City')", "error: unknown time zone Nowhere/City"),
    ]);
}

#[test]
fn format_with_go_layouts() {
    let t = "date('2023-08-14T09:05:07.123456789Z')";
    check(&[
        (
            &format!("{t}.Format('2006-01-02T15:04:05Z07:00')"),
            "\"2023-08-14T09:05:07Z\"",
        ),
        (
            &format!("{t}.Format('2006-01-02T15:04:05.000Z07:00')"),
            "\"2023-08-14T09:05:07.123Z\"",
        ),
        (
            &format!("{t}.Format('15:04:05.999999999')"),
            "\"09:05:07.123456789\"",
        ),
        (
            &format!("{t}.Format('Monday, January 2, 2006')"),
            "\"Monday, August 14, 2023\"",
        ),
        (
            &format!("{t}.Format('Mon Jan _2 3:4:5 PM')"),
            "\"Mon Aug 14 9:5:7 AM\"",
        ),
        (&format!("{t}.Format('06/1/2 03pm')"), "\"23/8/14 09am\""),
        (&format!("{t}.Format('002 __2')"), "\"226 226\""),
        (
            &format!("{t}.Format('-0700 -07 -07:00:00 MST')"),
            "\"+0000 +00 +00:00:00 UTC\"",
        ),
        (
            &format!("{t}.In(timezone('Asia/Kolkata')).Format('15:04 -0700 MST')"),
            "\"14:35 +0530 IST\"",
        ),
        (
            &format!("{t}.In('America/Los_Angeles').Format(\"2006-01-02 15:04 Z0700\")"),
            "\"2023-08-14 02:05 -0700\"",
        ),
        ("date('2023-01-05').Format('_2 Jan')", "\" 5 Jan\""),
    ]);
}

#[test]
fn date_fields() {
    let t = "date('2023-08-14T10:30:00Z')";
    check(&[
        (&format!("{t}.Year()"), "2023"),
        (&format!("{t}.Month()"), "8"),
        (&format!("{t}.Day()"), "14"),
        (&format!("{t}.Weekday()"), "1"),
        (&format!("{t}.YearDay()"), "226"),
        (&format!("{t}.Unix()"), "1692009000"),
        (&format!("{t}.UnixMilli()"), "1692009000000"),
        (&format!("{t}.In(timezone('Pacific/Auckland')).Day()"), "14"),
        (
            &format!("{t}.In(timezone('Pacific/Auckland')).Hour()"),
            "22",
        ),
        (&format!("{t}.UTC().Hour()"), "10"),
        (&format!("{t}.Location().String()"), "\"UTC\""),
        (&format!("{t}.IsZero()"), "false"),
        (
            &format!("{t}.Frobnicate()"),
            "error: cannot fetch Frobnicate from time.Time",
        ),
        ("type(date('2023-08-14'))", "\"time.Time\""),
        (
            "string(date('2023-08-14'))",
            "\"2023-08-14 00:00:00 +0000 UTC\"",
        ),
        ("date('2023-08-14')", "\"2023-08-14T00:00:00Z\""),
        (
            "date('2023-08-14T10:30:00+02:00')",
            "\"2023-08-14T10:30:00+02:00\"",
        ),
        ("now().Year() >= 2024", "true"),
    ]);
}

#[test]
fn date_arithmetic_and_comparison() {
    check(&[
        ("date('2023-08-15') - date('2023-08-14')", "86400000000000"),
        ("(date('2023-08-15') - date('2023-08-14')).Hours()", "24"),
        (
            "(date('2023-08-14') + duration('36h')).Format('2006-01-02 15h')",
            "\"2023-08-15 12h\"",
        ),
        ("(date('2023-08-14') - duration('1h')).Day()", "13"),
        ("date('2023-08-14') < date('2023-08-15')", "true"),
        (
            "date('2023-08-14T02:00:00+02:00') == date('2023-08-14T00:00:00Z')",
            "true",
        ),
        (
            "date('2023-01-31').AddDate(0, 1, 0).Format('2006-01-02')",
            "\"2023-03-03\"",
        ),
        (
            "date('2023-08-14').AddDate(1, -1, 20).Format('2006-01-02')",
            "\"2024-08-03\"",
        ),
        (
            "date('2023-08-14').Add(duration('90m')).Format('15:04')",
            "\"01:30\"",
        ),
        (
            "date('2023-08-15').Sub(date('2023-08-14')).String()",
            "\"24h0m0s\"",
        ),
        ("date('2023-08-14').Before(date('2023-08-15'))", "true"),
        ("date('2023-08-14').After(now())", "false"),
        (
            "date('2023-08-14') + 1",
            "error: invalid operation: time.Time + int",
        ),
    ]);
}

#[test]
fn durations() {
    check(&[
        ("duration('1h').Seconds()", "3600"),
        ("duration('1h30m').Minutes()", "90"),
        ("duration('1.5s').String()", "\"1.5s\""),
        ("duration('300ms').String()", "\"300ms\""),
        ("duration('1.5us').String()", "\"1.5µs\""),
        ("duration('-2h45m').String()", "\"-2h45m0s\""),
        ("duration('0').String()", "\"0s\""),
        ("duration('1h') > duration('59m')", "true"),
        ("duration('1h') + duration('30m')", "5400000000000"),
        ("duration('1m') * 2", "120000000000"),
        ("type(duration('1s'))", "\"time.Duration\""),
        (
            "duration('1')",
            "error: time: missing unit in duration \"1\"",
        ),
        (
            "duration('1y')",
            "error: time: unknown unit \"y\" in duration \"1y\"",
        ),
        ("duration('x')", "error: time: invalid duration \"x\""),
        ("duration('1h').Milliseconds()", "3600000"),
        (
            "duration('90m').Round(duration('1h')).String()",
            "\"2h0m0s\"",
        ),
        (
            "duration('90m').Truncate(duration('1h')).String()",
            "\"1h0m0s\"",
        ),
    ]);
}

#[test]
fn time_zones() {
    check(&[
        ("timezone('Europe/Zurich').String()", "\"Europe/Zurich\""),
        ("timezone('UTC').String()", "\"UTC\""),
        (
            "timezone('Nowhere/City')",
            "error: unknown time zone Nowhere/City",
        ),
        (
            "date('2023-01-14T10:00:00Z').In(timezone('Europe/Paris')).Format('15:04 MST')",
            "\"11:00 CET\"",
        ),
        (
            "date('2023-07-14T10:00:00Z').In(timezone('Europe/Paris')).Format('15:04 MST')",
            "\"12:00 CEST\"",
        ),
    ]);
}
