"""Email templates: every message has a plain-text and an HTML part, the product's look, the
recipient's anti-phishing code, and links built from the configured public URL."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from urllib.parse import urlencode

from bitchange.config import get_settings


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Link:
    label: str
    url: str


def public_link(path: str, **query: str) -> str:
    base = get_settings().public_url.rstrip("/")
    return f"{base}{path}" + (f"?{urlencode(query)}" if query else "")


_BRAND = "#f5a623"


def render(
    subject: str,
    paragraphs: list[str],
    *,
    anti_phishing_code: str | None = None,
    link: Link | None = None,
    footer_link: Link | None = None,
) -> Rendered:
    """One message in the house style. `paragraphs` are plain text (escaped for the HTML part)."""
    phrase = (anti_phishing_code or "").strip()
    guard_text = (f"Your anti-phishing code: {phrase}" if phrase else
                  "Tip: set an anti-phishing code in your security centre; we will print it in "
                  "every email we send you.")
    text_lines = [f"BitChange — {subject}", "", guard_text, ""]
    for paragraph in paragraphs:
        text_lines += [paragraph, ""]
    if link:
        text_lines += [f"{link.label}: {link.url}", ""]
    if footer_link:
        text_lines += [f"{footer_link.label}: {footer_link.url}", ""]
    text_lines += ["BitChange will never ask for your password or 2FA codes by email.",
                   public_link("/")]

    guard_html = (
        f'<p style="margin:0 0 16px;padding:8px 12px;background:#1e2530;border-left:3px solid '
        f'{_BRAND};color:#e6e6e6">'
        + (f'Your anti-phishing code: <strong id="anti-phishing">{escape(phrase)}</strong>'
           if phrase else escape(guard_text))
        + "</p>"
    )
    body = "".join(f'<p style="margin:0 0 12px">{escape(p)}</p>' for p in paragraphs)
    if link:
        body += (
            f'<p style="margin:20px 0"><a href="{escape(link.url)}" style="background:{_BRAND};'
            f'color:#111;padding:10px 18px;border-radius:6px;text-decoration:none;'
            f'font-weight:bold">{escape(link.label)}</a></p>'
            f'<p style="font-size:12px;color:#9aa4b2">Or open: {escape(link.url)}</p>'
        )
    if footer_link:
        body += (f'<p style="margin:16px 0 0"><a href="{escape(footer_link.url)}" '
                 f'style="color:#ff6b6b">{escape(footer_link.label)}</a></p>')
    html = (
        '<!doctype html><html><body style="margin:0;background:#0f141a;font-family:Arial,'
        'sans-serif;color:#e6e6e6"><div style="max-width:560px;margin:0 auto;padding:24px">'
        f'<div style="font-size:20px;font-weight:bold;color:{_BRAND};margin-bottom:16px">'
        'BitChange</div>'
        f'<h1 style="font-size:18px;margin:0 0 16px">{escape(subject)}</h1>'
        f"{guard_html}{body}"
        '<p style="font-size:12px;color:#9aa4b2;margin-top:24px">BitChange will never ask for '
        "your password or 2FA codes by email.</p></div></body></html>"
    )
    return Rendered(subject, "\n".join(text_lines), html)
