"""Every page of the app builds its component tree (what `reflex export` compiles), so a page
that cannot render fails here, in the fast suite, not only when the browser tests start the app."""

from __future__ import annotations

import pytest
import reflex as rx

from bitchange.bitchange import app

PAGES = sorted(app._unevaluated_pages.items())


def test_the_app_has_its_pages():
    assert len(PAGES) > 30


@pytest.mark.parametrize(("route", "page"), PAGES, ids=[route for route, _ in PAGES])
def test_page_builds(route, page):
    component = page.component() if callable(page.component) else page.component
    assert isinstance(component, rx.Component)
    assert component.render()  # the tree renders to what the compiler writes out
