"""HTML report: one self-contained page (no network: inline CSS and JS, a Content Security
Policy that forbids loading anything), to open in a browser or attach to a ticket.

The findings come first. A fleet report (`fleet report`, `verify --distributed`) adds a
nodes x fields matrix of the fields the nodes disagree on: one row per kind of node
(identical nodes share a row, with their count and hostlist, so 10,000 nodes of four
kinds are four rows), the lock's value as the reference row, each cell coloured by the
value group it belongs to (the majority's colour, or one of the outliers'). A long tail
(many fields of a section, each on a few nodes: report/longtail.py) is one row of the
findings and no columns. Columns sort
on a click; a filter box hides fields. The page's script draws the matrix from a JSON
block; every untrusted string goes through `plain()` and then `html.escape` (markup) or
JSON with `<`, `>` and `&` escaped (the data block), and the script writes text nodes only.
"""

from __future__ import annotations

import ast
import dataclasses
import html
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from envlock.details import Details, DistributedDetails, FleetDetails, lock_of
from envlock.findings import Finding, Report, Severity
from envlock.report.safe import plain

if TYPE_CHECKING:
    from envlock.report.longtail import LongTail

# A person reads a few hundred findings; `--format json` has every one.
MAX_FINDINGS = 500
_FLEET_VALUE_IDS = ("EL-FLEET-DIVERGENT", "EL-FLEET-RANK-DRIFT")


def _e(value: object) -> str:
    return html.escape(plain(value), quote=True)


def _show(value: object) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, list):
        return plain(" ".join(str(v) for v in value) or "[]")
    return plain(value)


def _from_repr(key: str) -> Any:
    """The value behind a `repr()` key of the fleet evidence (a literal: str, number, None,
    list, dict); the key itself when it is not one."""
    try:
        return ast.literal_eval(key)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return key


def _str_list(value: object) -> list[str] | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return None


@dataclass
class _Column:
    """One field of the matrix: its lock value, its values in group order and how many
    nodes hold each. `complete`: a divergence gave every node's value."""

    field: str
    reference: str | None = None
    values: list[str] = dataclasses.field(default_factory=list)
    sizes: list[int] = dataclasses.field(default_factory=list)
    complete: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "field": self.field,
            "reference": self.reference,
            "values": self.values,
            "sizes": self.sizes,
        }


@dataclass
class _Grid:
    """The matrix as it is filled, finding by finding: a column per field, and each node's
    value index per field."""

    columns: dict[str, _Column] = dataclasses.field(default_factory=dict)
    node_value: dict[str, dict[str, int]] = dataclasses.field(
        default_factory=dict
    )  # host -> field -> index
    drifted: dict[str, set[str]] = dataclasses.field(
        default_factory=dict
    )  # field -> hosts off the lock

    def add(self, f: Finding) -> None:
        if f.check_id not in _FLEET_VALUE_IDS or f.field is None:
            return
        col = self.columns.setdefault(f.field, _Column(field=plain(f.field)))
        if f.locked is not None:
            col.reference = _show(f.locked)
        if f.check_id == "EL-FLEET-DIVERGENT":
            self._divergent(f.field, col, f.evidence.get("hosts"))
        elif not col.complete:
            self._drift(f.field, col, f)

    def _divergent(self, name: str, col: _Column, hosts: object) -> None:
        """The divergence has every node's value: it replaces what drift findings gave."""
        if not isinstance(hosts, dict):
            return
        groups = [(k, _str_list(v)) for k, v in hosts.items()]
        col.values, col.sizes = [], []
        for index, (key, members) in enumerate(g for g in groups if g[1] is not None):
            col.values.append(_show(_from_repr(key)))
            col.sizes.append(len(members or ()))
            for host in members or ():
                self.node_value.setdefault(host, {})[name] = index
        col.complete = True

    def _drift(self, name: str, col: _Column, f: Finding) -> None:
        members = _str_list(f.evidence.get("hosts")) or []
        col.values.append(_show(f.observed))
        col.sizes.append(len(members))
        for host in members:
            self.node_value.setdefault(host, {})[name] = len(col.values) - 1
            self.drifted.setdefault(name, set()).add(host)

    def fill_locked(self, names: list[str], all_nodes: list[str]) -> None:
        """Nodes with no drift finding on a field hold the lock's value."""
        for name in names:
            col = self.columns[name]
            if col.complete:
                continue
            rest = [h for h in all_nodes if h not in self.drifted.get(name, set())]
            if rest:
                col.values.append(col.reference or "(locked value)")
                col.sizes.append(len(rest))
                for host in rest:
                    self.node_value.setdefault(host, {})[name] = len(col.values) - 1

    def rows(self, names: list[str], all_nodes: list[str]) -> list[dict[str, object]]:
        """One row per kind of node (the same value index in every column), largest first."""
        from envlock.hostlist import compress_hostlist

        kinds: dict[tuple[int, ...], list[str]] = {}
        for host in all_nodes:
            values = self.node_value.get(host, {})
            kinds.setdefault(tuple(values.get(n, -1) for n in names), []).append(host)
        return [
            {"nodes": plain(compress_hostlist(hosts)), "count": len(hosts), "cells": list(key)}
            for key, hosts in sorted(kinds.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        ]


def _nodes_of(details: Details | None) -> tuple[str, ...]:
    """The nodes a fleet report read, or the ranks' hosts of verify --distributed."""
    if isinstance(details, FleetDetails):
        return details.nodes
    if isinstance(details, DistributedDetails):
        return details.hosts
    return ()


def _missing(findings: list[Finding]) -> dict[str, object]:
    from envlock.hostlist import compress_hostlist

    missing: list[str] = []
    where: object = None
    count: object = None
    for f in findings:
        if f.check_id == "EL-FLEET-NODE-MISSING":
            missing = _str_list(f.evidence.get("missing")) or []
            # the list names the first 10,000; the hostlist and the count, all of them
            where, count = f.evidence.get("where"), f.evidence.get("count")
    return {
        "nodes": plain(where if isinstance(where, str) else compress_hostlist(missing)),
        "count": count if isinstance(count, int) else len(missing),
    }


def fleet_matrix(report: Report) -> dict[str, Any] | None:
    """The matrix the page draws: columns (field, lock value, the values in group order,
    majority first), rows (a kind of node: hostlist, count, value index per column), and
    the missing nodes. None when the report holds no per-node values."""
    from envlock.report.longtail import long_tails

    grid = _Grid()
    # a long tail's fields (a package on one node each) are no columns: a 10,000-field row
    for f in long_tails(report.findings)[0]:
        grid.add(f)
    if not grid.columns:
        return None
    if lock_of(report.details):  # a field the lock does not hold: unset there
        for col in grid.columns.values():
            col.reference = col.reference or "(none)"
    all_nodes = list(dict.fromkeys([*_nodes_of(report.details), *grid.node_value]))
    names = sorted(grid.columns)
    grid.fill_locked(names, all_nodes)
    return {
        "columns": [grid.columns[n].to_dict() for n in names],
        "rows": grid.rows(names, all_nodes),
        "missing": _missing(report.findings),
        "total": len(all_nodes),
    }


def _json_for_script(data: object) -> str:
    """JSON that cannot end the <script> element or open a comment inside it."""
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


_SEVERITY_CLASS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "info"}


def _finding_row(f: Finding) -> str:
    where = f.evidence.get("where")
    return (
        f'<tr class="{_SEVERITY_CLASS[f.severity]}"><td>{_e(f.severity.label)}</td>'
        f"<td><code>{_e(f.check_id)}</code></td><td>{_e(f.field or '')}</td>"
        f"<td>{_e(f.message)}"
        + (f'<div class="where">{_e(where)}</div>' if isinstance(where, str) else "")
        + (f'<div class="fix">fix: {_e(f.fix)}</div>' if f.fix else "")
        + "</td></tr>"
    )


def _tail_row(tail: LongTail) -> str:
    return (
        f'<tr class="{_SEVERITY_CLASS[tail.severity]}"><td>{_e(tail.severity.label)}</td>'
        f"<td><code>EL-FLEET-DIVERGENT</code></td><td>{_e(tail.section)}.*</td>"
        f"<td>{_e(tail.line())}</td></tr>"
    )


def _findings_table(findings: list[Finding]) -> list[str]:
    """The findings, a long tail's (a package on one node each) folded into one row."""
    from envlock.report.longtail import long_tails

    rest, tails = long_tails(findings)
    parts = [
        '<h2>Findings</h2><table class="findings"><thead><tr><th>severity</th><th>id</th>'
        "<th>field</th><th>what</th></tr></thead><tbody>",
        *(_finding_row(f) for f in rest[:MAX_FINDINGS]),
        *(_tail_row(t) for t in tails[:MAX_FINDINGS]),
        "</tbody></table>",
    ]
    hidden = max(len(rest) - MAX_FINDINGS, 0) + max(len(tails) - MAX_FINDINGS, 0)
    if hidden:
        parts.append(f'<p class="more">... and {hidden} more (--format json lists them all)</p>')
    return parts


def render_html(report: Report, out: TextIO) -> None:
    findings = report.sorted_findings()
    verdict = "FAIL" if report.failed else "PASS"
    counts = ", ".join(
        f"{report.count(s)} {s.label}{'s' * (report.count(s) != 1 and s is not Severity.INFO)}"
        for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)
    )
    title = f"envlock {report.command} ({report.target}): {verdict}"
    matrix = fleet_matrix(report)
    parts = [
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
        # nothing may be fetched: the page is the whole report
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
        f'<h1><span class="verdict {verdict.lower()}">{verdict}</span> '
        f"envlock {_e(report.command)} <small>({_e(report.target)})</small></h1>",
        f'<p class="counts">{_e(counts)}</p>',
    ]
    if findings:
        parts.extend(_findings_table(findings))
    else:
        parts.append("<p>nothing to report</p>")
    if matrix is not None:
        parts.append(
            '<h2>Nodes &times; fields</h2><p class="help">One row per kind of node (identical '
            "nodes share a row); each cell is coloured by its value group: "
            '<span class="g0 swatch">majority</span> and the outliers. Click a column to sort; '
            'type to filter fields.</p><input id="filter" type="search" '
            'placeholder="filter fields, e.g. driver" aria-label="filter fields">'
            '<div class="scroll"><table id="matrix"></table></div>'
            f'<script type="application/json" id="fleet-data">{_json_for_script(matrix)}'
            f"</script><script>{_JS}</script>"
            "<noscript><p>The matrix needs JavaScript; the findings above have every "
            "value and node.</p></noscript>"
        )
    parts.append("</body></html>\n")
    out.write("".join(parts))


_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1b1f24;background:#fff}
h1{font-size:20px}h2{font-size:16px;margin-top:1.5em}small{color:#57606a}
.verdict{padding:2px 8px;border-radius:4px;color:#fff}.verdict.fail{background:#cf222e}
.verdict.pass{background:#1a7f37}
table{border-collapse:collapse}td,th{border:1px solid #d0d7de;padding:3px 8px;
text-align:left;vertical-align:top}
table.findings tr.error td:first-child{color:#cf222e;font-weight:600}
table.findings tr.warning td:first-child{color:#9a6700;font-weight:600}
.where{font-family:ui-monospace,monospace;color:#24292f;margin-top:2px}
.fix{color:#1a7f37}.scroll{overflow:auto;max-width:100%}
#matrix th{background:#f6f8fa;cursor:pointer;white-space:nowrap;position:sticky;top:0}
#matrix th.sorted::after{content:" \\25B4"}#matrix th.sorted.desc::after{content:" \\25BE"}
#matrix td{font-family:ui-monospace,monospace;white-space:nowrap}
#matrix tr.reference td{background:#eaeef2;font-weight:600}
#matrix tr.missing td{background:#fff;color:#57606a;font-style:italic}
#matrix td.nodes{max-width:40em;white-space:normal;word-break:break-all}
.g0{background:#dafbe1}.g1{background:#ffd8d3}.g2{background:#fff1b8}.g3{background:#ddf4ff}
.g4{background:#fbefff}.g5{background:#ffe2cc}.gx{background:#f0d0ff}
td.offlock{outline:2px solid #cf222e;outline-offset:-2px}
.swatch{padding:0 4px}#filter{margin:.5em 0;padding:4px;width:24em}
"""

_JS = """
(function(){
"use strict";
var data=JSON.parse(document.getElementById("fleet-data").textContent);
var table=document.getElementById("matrix");
var cols=data.columns, sortCol=-3, desc=false, filter="";
function el(tag,text,cls){var e=document.createElement(tag);
  if(text!==undefined&&text!==null)e.textContent=String(text);if(cls)e.className=cls;return e;}
function valueOf(row,i){if(i===-2)return row.count;if(i===-1)return row.nodes;
  var v=row.cells[i];return v<0?"":cols[i].values[v];}
function draw(){
  while(table.firstChild)table.removeChild(table.firstChild);
  var shown=[];for(var i=0;i<cols.length;i++)
    if(cols[i].field.toLowerCase().indexOf(filter)>=0)shown.push(i);
  var head=el("thead"),tr=el("tr");
  [[-1,"nodes"],[-2,"count"]].concat(shown.map(function(i){return [i,cols[i].field];}))
  .forEach(function(c){var th=el("th",c[1]);th.dataset.col=c[0];
    if(c[0]===sortCol)th.className="sorted"+(desc?" desc":"");
    th.addEventListener("click",function(){var k=Number(this.dataset.col);
      if(k===sortCol)desc=!desc;else{sortCol=k;desc=k===-2;}draw();});tr.appendChild(th);});
  head.appendChild(tr);table.appendChild(head);
  var body=el("tbody"),ref=el("tr",null,"reference");
  ref.appendChild(el("td","lock (reference)"));ref.appendChild(el("td",""));
  shown.forEach(function(i){ref.appendChild(el("td",cols[i].reference===null?"-":cols[i].reference));});
  body.appendChild(ref);
  var rows=data.rows.slice();
  if(sortCol!==-3){rows.sort(function(a,b){var x=valueOf(a,sortCol),y=valueOf(b,sortCol);
    var r=typeof x==="number"?x-y:String(x).localeCompare(String(y),undefined,{numeric:true});
    return desc?-r:r;});}
  rows.forEach(function(row){var r=el("tr");r.appendChild(el("td",row.nodes,"nodes"));
    r.appendChild(el("td",row.count));
    shown.forEach(function(i){var v=row.cells[i],c=cols[i];
      var td=el("td",v<0?"":c.values[v],v<0?"":(v<6?"g"+v:"gx"));
      if(v>=0&&c.reference!==null&&c.values[v]!==c.reference)td.className+=" offlock";
      if(v>=0)td.title=c.field+": "+c.values[v]+" on "+c.sizes[v]+" node(s)";
      r.appendChild(td);});body.appendChild(r);});
  if(data.missing.count){var m=el("tr",null,"missing");
    m.appendChild(el("td",data.missing.nodes,"nodes"));m.appendChild(el("td",data.missing.count));
    shown.forEach(function(){m.appendChild(el("td","missing: sent no facts"));});
    body.appendChild(m);}
  table.appendChild(body);
}
document.getElementById("filter").addEventListener("input",function(){
  filter=this.value.toLowerCase();draw();});
draw();
})();
"""
