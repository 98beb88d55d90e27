"""Server-rendered pages: home, accounts, membership application, portal, registry."""

urlpatterns: list = []
