"""The Reflex app: pages, their on-load events, and the backend routes."""

import reflex as rx

from bitchange import routes
from bitchange.config import check_production, get_settings
from bitchange.pages.admin import AdminState, admin
from bitchange.pages.home import home
from bitchange.pages.login import LoginState, login
from bitchange.pages.markets import markets
from bitchange.pages.not_found import not_found
from bitchange.state.auth import SessionState
from bitchange.state.markets import MarketsState
from bitchange.web import api

check_production(get_settings())

app = rx.App(api_transformer=api, html_lang="en")

_chrome = [SessionState.refresh, MarketsState.load]
app.add_page(home, route=routes.HOME, title="BitChange — spot crypto exchange",
             on_load=_chrome)
app.add_page(markets, route=routes.MARKETS, title="Markets · BitChange", on_load=_chrome)
app.add_page(login, route=routes.LOGIN, title="Log in · BitChange",
             on_load=[*_chrome, LoginState.clear])
app.add_page(admin, route=routes.ADMIN, title="Admin · BitChange",
             on_load=[*_chrome, AdminState.load])
app.add_page(not_found, route=routes.NOT_FOUND, title="Not found · BitChange", on_load=_chrome)
