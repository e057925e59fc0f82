"""AWS-shaped error answers.

botocore takes the error code from the ``x-amzn-ErrorType`` header and the message
from the JSON body's ``message``, so every error carries both.
"""

import json

from aiohttp import web


class AwsError(Exception):
    """An error answered as ``status`` + ``x-amzn-ErrorType: error_type`` + JSON body."""

    def __init__(self, status, error_type, message, **extra):
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message
        self.extra = extra

    def to_response(self):
        return aws_error_response(self.status, self.error_type, self.message, **self.extra)


def aws_error_response(status, error_type, message, **extra):
    body = {"message": message, **extra}
    return web.Response(
        status=status,
        body=json.dumps(body).encode(),
        content_type="application/json",
        headers={"x-amzn-ErrorType": error_type},
    )


def bad_request(message):
    return AwsError(400, "BadRequestException", message)


def not_found(message, resource_type=None):
    extra = {"resourceType": resource_type} if resource_type else {}
    return AwsError(404, "NotFoundException", message, **extra)


def conflict(message):
    return AwsError(409, "ConflictException", message)
