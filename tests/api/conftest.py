from tests.conftest import API_CTX as CTX

__all__ = ["CTX"]
