"""``uvicorn amane.api.asgi:app``"""

from amane.api.app import create_app

app = create_app()
