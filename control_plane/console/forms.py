import json

from django import forms
from django.contrib.auth.password_validation import validate_password

from resale.history.selectors import HistoryFilter
from resale.models import WebhookDelivery
from resale.webhooks.events import ALL_EVENTS, EVENT_TYPES
from tenants.models import SLUG_VALIDATOR, ApiKey, Membership, Tenant


def _filter_input(text: str) -> forms.TextInput:
    """A filter box with no visible label: its placeholder says what it filters, as does its aria-label."""
    return forms.TextInput(attrs={"placeholder": text, "aria-label": text})


class TenantFilterForm(forms.Form):
    q = forms.CharField(
        required=False,
        label="Search",
        max_length=100,
        widget=forms.TextInput(
            attrs={"placeholder": "Search slug or name", "aria-label": "Search slug or name"}
        ),
    )
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *Tenant.Status.choices])
    tier = forms.ChoiceField(required=False, choices=[("", "Any tier"), *Tenant.Tier.choices])


class OnboardingForm(forms.Form):
    slug = forms.CharField(
        max_length=40, validators=[SLUG_VALIDATOR], help_text="3 to 40 characters of a-z, 0-9 and '-'."
    )
    name = forms.CharField(max_length=200)
    tier = forms.ChoiceField(choices=Tenant.Tier.choices)
    admin_email = forms.EmailField(label="Admin email")


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100)
    scopes = forms.MultipleChoiceField(choices=ApiKey.Scope.choices, widget=forms.CheckboxSelectMultiple)


class WebhookForm(forms.Form):
    url = forms.URLField(max_length=2000, label="URL", assume_scheme="https")
    events = forms.MultipleChoiceField(
        choices=[(ALL_EVENTS, "every event"), *((name, name) for name in sorted(EVENT_TYPES))],
        widget=forms.CheckboxSelectMultiple,
        label="Event types",
    )


class DeliveryFilterForm(forms.Form):
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *WebhookDelivery.Status.choices])


class InvitationForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Membership.Role.choices)


class InvitationAcceptForm(forms.Form):
    password = forms.CharField(widget=forms.PasswordInput, strip=False)
    password_again = forms.CharField(widget=forms.PasswordInput, strip=False, required=False)

    def __init__(self, *args, existing_account: bool, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.existing_account = existing_account
        self.email = email
        if existing_account:
            del self.fields["password_again"]
            self.fields["password"].label = "Your current password"
        else:
            self.fields["password"].label = "Choose a password"
            self.fields["password_again"].label = "The same password again"
            self.fields["password_again"].required = True

    def clean(self):
        cleaned = super().clean()
        if not self.existing_account and cleaned.get("password"):
            if cleaned.get("password") != cleaned.get("password_again"):
                self.add_error("password_again", "The two passwords differ.")
            else:
                try:
                    validate_password(cleaned["password"])
                except forms.ValidationError as exc:
                    self.add_error("password", exc)
        return cleaned


class AttributeSchemaForm(forms.Form):
    schema = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 18, "spellcheck": "false", "class": "code"}),
        help_text="A JSON Schema for listing attributes. Leave empty to remove the schema.",
    )

    def clean_schema(self) -> dict | None:
        text = self.cleaned_data["schema"].strip()
        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc}") from exc


class ListingFilterForm(forms.Form):
    q = forms.CharField(
        required=False,
        label="Title or description contains",
        max_length=100,
        widget=forms.TextInput(
            attrs={
                "placeholder": "Search text",
                "aria-label": "Title or description contains",
            }
        ),
    )
    status = forms.ChoiceField(
        required=False,
        choices=[("", "Any status"), ("active", "active"), ("sold", "sold"), ("withdrawn", "withdrawn")],
    )
    category = forms.CharField(
        required=False,
        max_length=100,
        widget=_filter_input("Category"),
    )
    seller_id = forms.CharField(
        required=False,
        label="Seller",
        max_length=100,
        widget=_filter_input("Seller id"),
    )


class ListingEditForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    title = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))
    category = forms.CharField(max_length=100)
    condition = forms.CharField(max_length=50)
    price = forms.DecimalField(min_value=0, decimal_places=2, max_digits=12)
    currency = forms.RegexField(regex=r"^[A-Z]{3}$", max_length=3, help_text="ISO 4217, e.g. EUR")

    def changes(self) -> dict:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "description": data["description"],
            "category": data["category"],
            "condition": data["condition"],
            "price": f"{data['price']:.2f}",
            "currency": data["currency"],
        }


class OrderFilterForm(forms.Form):
    status = forms.ChoiceField(
        required=False,
        choices=[
            ("", "Any status"),
            *[(s, s) for s in ("submitted", "paid", "shipped", "completed", "payment_failed", "cancelled")],
        ],
    )
    buyer_id = forms.CharField(
        required=False,
        label="Buyer",
        max_length=100,
        widget=_filter_input("Buyer id"),
    )


class HistoryFilterForm(forms.Form):
    entity_type = forms.CharField(
        required=False,
        label="Entity type",
        max_length=40,
        widget=forms.TextInput(
            attrs={
                "placeholder": "Entity type (listing, order…)",
                "aria-label": "Entity type (listing, order…)",
            }
        ),
    )
    entity_id = forms.CharField(
        required=False,
        label="Entity id",
        max_length=100,
        widget=_filter_input("Entity id"),
    )
    actor = forms.CharField(
        required=False,
        max_length=200,
        widget=_filter_input("Actor (api-key:…)"),
    )
    since = forms.DateTimeField(required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    until = forms.DateTimeField(required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))

    def history_filter(self) -> HistoryFilter:
        data = self.cleaned_data if self.is_valid() else {}
        return HistoryFilter(
            entity_type=data.get("entity_type") or None,
            entity_id=data.get("entity_id") or None,
            actor=data.get("actor") or None,
            since=data.get("since"),
            until=data.get("until"),
        )


class RolloutForm(forms.Form):
    tenants = forms.CharField(
        initial="all",
        help_text='"all" (every active or suspended tenant), or slugs separated by spaces or commas.',
    )
    canary = forms.IntegerField(min_value=0, initial=1)
    wave_size = forms.IntegerField(min_value=1, initial=10, label="Wave size")
    max_parallel = forms.IntegerField(min_value=1, initial=2, label="At once")
    max_failures = forms.IntegerField(min_value=0, initial=0, label="Failures tolerated")
    preview = forms.BooleanField(required=False, help_text="Only plan: change nothing.")

    def clean_tenants(self) -> str | list[str]:
        value = self.cleaned_data["tenants"].strip()
        return value if value == "all" else [slug for slug in value.replace(",", " ").split() if slug]
