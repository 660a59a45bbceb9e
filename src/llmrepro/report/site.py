"""The reviewers' site: every Markdown page under reports/ as a static HTML page beside it
(reports/index.html, reports/<id>/index.html, robustness.html, bench.html). It works offline
from the file system: no CDN, no script, relative links only."""

from __future__ import annotations

import re
from html import escape
from pathlib import Path

import markdown

CSS = """
body { font: 15px/1.5 system-ui, sans-serif; max-width: 72rem; margin: 1.5rem auto; padding: 0 1rem; color: #222; }
nav { border-bottom: 1px solid #ddd; padding-bottom: .5rem; margin-bottom: 1rem; }
nav a { margin-right: 1rem; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: .3rem .5rem; vertical-align: top; text-align: left; }
th { background: #f3f3f3; }
img { max-width: 100%; border: 1px solid #eee; }
code { background: #f5f5f5; padding: 0 .2rem; }
pre { background: #f5f5f5; padding: .6rem; overflow-x: auto; }
.badge { white-space: nowrap; padding: 0 .35rem; border-radius: .3rem; }
.ok { background: #dff3df; } .no { background: #f8dcdc; } .unsure { background: #fbf0cf; } .fragile { background: #e4e1f7; }
"""
BADGES = {"✅ reproduced": "ok", "❌ not reproduced": "no", "⚠️ inconclusive": "unsure", "🔀 fragile": "fragile"}


def _links(html: str) -> str:
    # Markdown pages link to each other; the site links to their HTML twins.
    html = re.sub(r'href="((?:[^"]*/)?)README\.md(#[^"]*)?"', lambda m: f'href="{m[1]}index.html{m[2] or ""}"', html)
    return re.sub(r'href="([^":#]+)\.md(#[^"]*)?"', lambda m: f'href="{m[1]}.html{m[2] or ""}"', html)


def _badges(html: str) -> str:
    for text, cls in BADGES.items():
        html = html.replace(text, f'<span class="badge {cls}">{text}</span>')
    return html


def page(md_text: str, title: str, up: str) -> str:
    """One HTML page; `up` is the relative path from it to reports/."""
    body = markdown.markdown(md_text, extensions=["tables", "fenced_code"], output_format="html")
    nav = (f'<nav><a href="{up}index.html">All papers</a><a href="{up}robustness.html">Robustness</a>'
           f'<a href="{up}bench.html">Benchmark</a></nav>')
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f"<style>{CSS}</style></head><body>{nav}\n{_badges(_links(body))}\n</body></html>\n")


def write_page(md_path: Path, html_path: Path, title: str, up: str) -> None:
    text = md_path.read_text() if md_path.exists() else f"# {title}\n\nNot made yet.\n"
    html_path.write_text(page(text, title, up))
