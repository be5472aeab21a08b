"""The report as one self-contained HTML page: inline CSS, inline SVG plots, nothing to fetch.

It opens offline: no CDN, no web font, no script, no link to anything but
its own sections. Every piece of text from the journal is escaped.
"""

from __future__ import annotations

from html import escape

from twin.report import sections
from twin.report.model import Report
from twin.report.plots import Plot
from twin.textsafe import safe_text

CSS = """
:root { --fg: #1d2430; --muted: #5b6575; --line: #dde2ea; --bg: #ffffff; --soft: #f5f7fa;
        --error: #c62828; --warning: #b37d00; --info: #3465a4; --blue: #1f5fa8;
        --orange: #d9730d; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
       font: 14px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 28px 32px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 34px 0 10px; padding-bottom: 4px;
     border-bottom: 2px solid var(--line); }
h3 { font-size: 15px; margin: 18px 0 6px; }
.sub { color: var(--muted); margin: 0 0 18px; }
nav { margin: 0 0 8px; font-size: 13px; }
nav a { color: var(--blue); text-decoration: none; margin-right: 14px; }
.cards { display: grid; grid-template-columns: 200px 1fr; gap: 0; border: 1px solid var(--line);
         border-radius: 8px; overflow: hidden; }
.cards > div { padding: 8px 12px; border-top: 1px solid var(--line); }
.cards > div:nth-child(-n+2) { border-top: none; }
.cards .detail { color: var(--muted); font-size: 13px; margin-top: 2px; }
.cards .k { background: var(--soft); font-weight: 600; color: var(--muted); }
.cards .first { color: var(--error); font-weight: 600; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th { text-align: left; background: var(--soft); color: var(--muted); font-weight: 600;
     border-bottom: 1px solid var(--line); padding: 6px 8px; white-space: nowrap; }
td { border-bottom: 1px solid var(--line); padding: 5px 8px; vertical-align: top; }
td.n, th.n { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.t { white-space: nowrap; font-variant-numeric: tabular-nums; color: var(--muted); }
td.src { overflow-wrap: anywhere; min-width: 18em; }  /* long URLs wrap, not widen the page */
code, .id { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
            font-size: 12.5px; }
.id { white-space: nowrap; }
.sev-error { color: var(--error); font-weight: 700; }
.sev-warning { color: var(--warning); font-weight: 700; }
.sev-info { color: var(--info); font-weight: 700; }
tr.fault td { background: #fff4f4; }
.plot { margin: 16px 0 22px; }
.plot svg { width: 100%; height: auto; display: block; }
.caption { color: var(--muted); font-size: 12.5px; margin: 2px 0 0; }
.badge { display: inline-block; padding: 0 7px; border-radius: 9px; font-size: 12px;
         font-weight: 600; background: #eef1f5; }
.prov-seed { background: #fff3cd; color: #7a5a00; }
.prov-assumption { background: #f1e4f7; color: #6a2d84; }
.prov-official { background: #dff3e2; color: #22652f; }
.prov-measured { background: #dcecfb; color: #1f5fa8; }
.prov-community { background: #e8eef7; color: #38506f; }
.two { display: grid; grid-template-columns: 1fr 1fr; gap: 18px; }
.legend-o { color: var(--blue); font-weight: 700; }
.legend-b { color: var(--orange); font-weight: 700; }
footer { margin-top: 36px; color: var(--muted); font-size: 12px; }
@media print { main { max-width: none; padding: 0; } h2 { break-after: avoid; }
               .plot { break-inside: avoid; } }
"""


def _e(text: object) -> str:
    """Escape data for HTML (after making it terminal-safe)."""
    return escape(safe_text(text), quote=True)


def _td(text: object, cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return f"<td{attr}>{_e(text)}</td>"


def _summary(report: Report) -> str:
    cells = []
    for fact in sections.summary(report):
        first = fact.label in ("What went wrong first", "First error no upgrade explains")
        cls = ' class="first"' if first and not fact.text.startswith("none") else ""
        detail = f'<div class="detail">{_e(fact.detail)}</div>' if fact.detail else ""
        cells.append(
            f'<div class="k">{_e(fact.label)}</div><div><span{cls}>{_e(fact.text)}</span>'
            f"{detail}</div>"
        )
    return f'<div class="cards">{"".join(cells)}</div>'


def _moments(report: Report) -> str:
    rows = []
    for m in report.timeline.moments:
        fault = m.type in ("member_failed", "site_failover", "link_failed", "orchestrator_failed")
        rows.append(
            ('<tr class="fault">' if fault else "<tr>")
            + _td(f"#{m.seq}", "n")
            + _td(sections.clock(m.occurred_at), "t")
            + _td(m.text)
            + _td(m.actor or "", "t")
            + _td(sections.moment_findings(m))
            + "</tr>"
        )
    head = [("#", "n"), ("time", ""), ("what happened", ""), ("who", ""), ("findings", "")]
    return _raw_table(head, rows)


def _raw_table(head: list[tuple[str, str]], rows: list[str]) -> str:
    ths = "".join(f'<th class="{cls}">{_e(name)}</th>' for name, cls in head)
    return f"<table><thead><tr>{ths}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _plots(plots: list[Plot]) -> str:
    out = []
    for plot in plots:
        out.append(
            f'<figure class="plot" id="plot-{_e(plot.name)}"><h3>{_e(plot.title)}</h3>{plot.svg}'
            f'<figcaption class="caption">{_e(plot.caption)}</figcaption></figure>'
        )
    return "".join(out)


def _findings(report: Report) -> str:
    rows = []
    for r in sections.finding_rows(report.timeline):
        sev = f'<td class="sev-{_e(r["severity"])}">{_e(r["glyph"] + " " + r["severity"])}</td>'
        rows.append(
            "<tr>"
            + sev
            + f'<td><span class="id">{_e(r["rule"])}</span></td>'
            + f'<td><span class="id">{_e(r["subject"])}</span></td>'
            + _td(r["raised"], "t")
            + _td(r["cleared"], "t")
            + _td(r["duration"], "n")
            + _td(r["message"])
            + "</tr>"
        )
    head = [
        ("severity", ""),
        ("finding", ""),
        ("subject", ""),
        ("raised", ""),
        ("cleared", ""),
        ("active for", "n"),
        ("message when raised", ""),
    ]
    return _raw_table(head, rows)


def _comparison(report: Report) -> str:
    c = report.comparison
    if c is None:
        return ""
    rows = [
        "<tr>" + _td(r.label) + _td(r.original, "n") + _td(r.branch, "n") + "</tr>"
        for r in sections.side_by_side(report)
    ]
    table = _raw_table(
        [("after the fork", ""), ("original", "n"), (f"what-if {safe_text(c.branch)}", "n")], rows
    )

    def spans(items: tuple[object, ...], empty: str) -> str:
        if not items:
            return f"<p>{_e(empty)}</p>"
        lines = "".join(f"<li>{_e(sections.span_line(s))}</li>" for s in items)  # type: ignore[arg-type]
        return f"<ul>{lines}</ul>"

    branch_moments = [m for m in c.timeline.moments if m.seq > c.fork_seq]
    moment_rows = [
        "<tr>"
        + _td(f"#{m.seq}", "n")
        + _td(sections.clock(m.occurred_at), "t")
        + _td(m.text)
        + _td(sections.moment_findings(m))
        + "</tr>"
        for m in branch_moments
    ]
    return (
        f'<h2 id="compare">What-if: <code>{_e(c.branch)}</code> beside the original</h2>'
        f"<p>The branch shares events #1–#{c.fork_seq} with the original and then goes its own "
        f'way. In the plots above the original is <span class="legend-o">solid blue</span> and '
        f'the branch <span class="legend-b">dashed orange</span>.</p>'
        f"{table}"
        f'<div class="two"><div><h3>Avoided on the branch</h3>'
        f"{spans(c.avoided, 'nothing the original raised after the fork is avoided')}</div>"
        f"<div><h3>Caused on the branch</h3>"
        f"{spans(c.caused, 'no finding that the original did not have')}</div></div>"
        "<h3>Key moments of the branch after the fork</h3>"
        "<p>Numbered as on the branch: its events run on from the fork, so they differ from "
        "the original's numbers where it added or skipped events.</p>"
        + (
            _raw_table(
                [("#", "n"), ("time", ""), ("what happened", ""), ("findings", "")], moment_rows
            )
            if moment_rows
            else "<p>none</p>"
        )
    )


def _parameters(report: Report) -> str:
    rows = []
    for p in report.parameters:
        rows.append(
            "<tr>"
            + f'<td><span class="id">{_e(p.name)}</span></td>'
            + _td(p.value, "n")
            + _td(p.band, "n")
            + f'<td><span class="badge prov-{_e(p.provenance)}">{_e(p.provenance)}</span></td>'
            + _td(p.source, "src")
            + "<td>"
            + ", ".join(f'<span class="id">{_e(name)}</span>' for name in p.used_by)
            + "</td>"
            + "</tr>"
        )
    head = [
        ("parameter", ""),
        ("value", "n"),
        ("band", "n"),
        ("provenance", ""),
        ("source", ""),
        ("findings that use it", ""),
    ]
    return _raw_table(head, rows)


def render(report: Report, plots: list[Plot]) -> str:
    """The whole page."""
    t = report.timeline
    compare_link = '<a href="#compare">What-if</a>' if report.comparison else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(report.title)}</title><style>{CSS}</style></head><body><main>"
        f"<h1>{_e(report.title)}</h1>"
        f'<p class="sub">{_e(sections.window_line(t, report.profile, report.version))}</p>'
        '<nav><a href="#summary">Summary</a><a href="#moments">Key moments</a>'
        '<a href="#plots">Metrics</a><a href="#findings">Findings</a>'
        f'{compare_link}<a href="#profile">Parameters</a></nav>'
        f'<h2 id="summary">Summary</h2>{_summary(report)}'
        f'<h2 id="moments">Key moments</h2>'
        "<p>Faults, failovers, links, notes, and every event that raised or cleared a warning "
        "or an error finding (+ raised, − cleared).</p>"
        f"{_moments(report)}"
        f'<h2 id="plots">Key metrics over time</h2>{_plots(plots)}'
        f'<h2 id="findings">Findings</h2>'
        "<p>Each finding from the event that raised it to the one that cleared it; "
        "durations are in journal time.</p>"
        f"{_findings(report)}"
        f"{_comparison(report)}"
        f'<h2 id="profile">Parameters the findings depend on</h2>'
        f"<p>Profile <code>{_e(report.profile)}</code>: every number the rules behind these "
        "findings read, with where it comes from. <code>seed</code> numbers are unverified; "
        "calibrate them with a profile file (<code>twin profile</code>).</p>"
        f"{_parameters(report)}"
        f"<footer>Made by <code>{_e(report.command or 'twin report')}</code> from "
        f"{_e(report.source)}. Times are journal time (UTC). Self-contained: this file needs "
        "nothing else to open.</footer>"
        "</main></body></html>\n"
    )
