import reflex as rx

from bitchange.config import get_settings

settings = get_settings()

config = rx.Config(
    app_name="bitchange",
    telemetry_enabled=False,
    # The database is configured by DATABASE_URL in bitchange.config, not by Reflex's db_url.
    plugins=[
        rx.plugins.SitemapPlugin(),
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(appearance="dark", accent_color="amber", gray_color="slate",
                           radius="medium", scaling="95%"),
        ),
    ],
    show_built_with_reflex=False,
    trusted_proxy_hops=settings.trusted_proxy_hops,
)
