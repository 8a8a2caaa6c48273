"""Signing in and out, the console's home, and accepting an invitation."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from control_plane.console.access import ADMIN, member_tenants
from control_plane.console.errors import ExistingAccountPasswordWrong, InvitationInvalid
from control_plane.console.forms import InvitationAcceptForm
from control_plane.console.services import invitation_accept, invitation_from_token, invitee_has_password
from control_plane.console.unavailable import answers_503_when_a_dependency_fails
from control_plane.signin import lockout_response, signin_allowed, signin_failed


class ConsoleLoginView(auth_views.LoginView):
    """Django's login; django-axes refuses it (429) once a username or address failed too often."""

    template_name = "console/login.html"
    redirect_authenticated_user = True

    @method_decorator(answers_503_when_a_dependency_fails)
    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return super().post(request, *args, **kwargs)


class ConsoleLogoutView(auth_views.LogoutView):
    pass


@never_cache
def home(request: HttpRequest) -> HttpResponse:
    """Sends each person to where their role starts: staff to tenants, members to their tenant."""
    if not request.user.is_authenticated:
        return redirect("console:login")
    accesses = member_tenants(request.user)
    if request.user.is_staff:
        return redirect("console:staff-tenants")
    if len(accesses) == 1:
        return redirect(_tenant_start(accesses[0]))
    return render(request, "console/home.html", {"accesses": accesses})


def _tenant_start(access) -> str:
    name = "console:listings" if access.role == ADMIN else "console:history"
    return reverse(name, kwargs={"slug": access.tenant.slug})


@never_cache
@sensitive_post_parameters("password", "password_again")
@csrf_protect
@answers_503_when_a_dependency_fails
def invitation_accept_view(request: HttpRequest, token: str) -> HttpResponse:
    """Accepts an invitation. Wrong passwords of an existing account count as failed sign-ins."""
    try:
        invitation = invitation_from_token(token)
    except InvitationInvalid as exc:
        return render(request, "console/invitation_invalid.html", {"reason": str(exc)}, status=404)
    existing = invitee_has_password(invitation)
    form = InvitationAcceptForm(request.POST or None, existing_account=existing, email=invitation.email)
    context = {"invitation": invitation, "form": form, "existing": existing}
    credentials = {"username": invitation.email}
    if request.method == "POST" and existing and not signin_allowed(request, credentials):
        return lockout_response(request, None, credentials)
    if request.method == "POST" and form.is_valid():
        try:
            membership = invitation_accept(token=token, password=form.cleaned_data["password"])
        except ExistingAccountPasswordWrong as exc:
            signin_failed(request=request, username=invitation.email)
            form.add_error(None, str(exc))
        except InvitationInvalid as exc:
            form.add_error(None, str(exc))
        else:
            login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, f"Welcome to {membership.tenant.name}.")
            return redirect("console:home")
    return render(request, "console/invitation_accept.html", context)
