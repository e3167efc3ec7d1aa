"""What every portal form that a service checks shares."""

from __future__ import annotations

from django.core.exceptions import ValidationError


class ServiceErrorsMixin:
    """Put a service's ValidationError on the page: a key naming a form field goes next to it
    (unless the form refused that field already: the service's "Enter the topic." would repeat
    it), a key registered in `errors_apart` (attendance, photos...) in its own list, anything
    else on top. The one home of turning a service's errors into a form's."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Errors shown next to something that is not a form field, by the service's key.
        self.errors_apart: dict[str, list[str]] = {}

    def add_service_errors(self, exc: ValidationError) -> None:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}
        refused = set(self.errors)
        for key, messages in errors.items():
            if key in self.errors_apart:
                self.errors_apart[key].extend(messages)
            elif key in self.fields:
                if key not in refused:
                    for message in messages:
                        self.add_error(key, message)
            else:
                for message in messages:
                    self.add_error(None, message)
