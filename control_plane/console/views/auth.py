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
from control_plane.console.throttle import login_failed, login_is_throttled, login_succeeded
from control_plane.console.unavailable import answers_503_when_a_dependency_fails


class ConsoleLoginView(auth_views.LoginView):
    """Django's login, refused (429) once a username or address has failed too often."""

    template_name = "console/login.html"
    redirect_authenticated_user = True

    @method_decorator(answers_503_when_a_dependency_fails)
    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        username = request.POST.get("username", "")
        address = request.META.get("REMOTE_ADDR", "")
        if login_is_throttled(username=username, address=address):
            form = self.get_form()
            return render(
                request,
                self.template_name,
                {"form": form, "throttled": True, "next": self.get_redirect_url()},
                status=429,
            )
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        login_failed(
            username=self.request.POST.get("username", ""), address=self.request.META.get("REMOTE_ADDR", "")
        )
        return super().form_invalid(form)

    def form_valid(self, form):
        login_succeeded(username=form.get_user().get_username())
        return super().form_valid(form)


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
    """Accepts an invitation. Wrong passwords of an existing account count as failed logins."""
    try:
        invitation = invitation_from_token(token)
    except InvitationInvalid as exc:
        return render(request, "console/invitation_invalid.html", {"reason": str(exc)}, status=404)
    existing = invitee_has_password(invitation)
    address = request.META.get("REMOTE_ADDR", "")
    form = InvitationAcceptForm(request.POST or None, existing_account=existing, email=invitation.email)
    context = {"invitation": invitation, "form": form, "existing": existing}
    if (
        request.method == "POST"
        and existing
        and login_is_throttled(username=invitation.email, address=address)
    ):
        return render(request, "console/invitation_accept.html", {**context, "throttled": True}, status=429)
    if request.method == "POST" and form.is_valid():
        try:
            membership = invitation_accept(token=token, password=form.cleaned_data["password"])
        except ExistingAccountPasswordWrong as exc:
            login_failed(username=invitation.email, address=address)
            form.add_error(None, str(exc))
        except InvitationInvalid as exc:
            form.add_error(None, str(exc))
        else:
            login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, f"Welcome to {membership.tenant.name}.")
            return redirect("console:home")
    return render(request, "console/invitation_accept.html", context)
