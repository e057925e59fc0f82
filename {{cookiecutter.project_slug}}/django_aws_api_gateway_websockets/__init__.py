"""WebSockets for Django through AWS API Gateway.

API Gateway holds the WebSocket connections and calls this app over plain HTTP for
``$connect``, each message and ``$disconnect``; the app keeps a session row per
connection and sends back through API Gateway's management API.
"""
