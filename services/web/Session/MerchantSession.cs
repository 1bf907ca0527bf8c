using System.Security.Claims;
using Fidpass.Web.Gateway;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace Fidpass.Web.Session;

/// <summary>The signed-in merchant, as kept in the encrypted session cookie.</summary>
public sealed record MerchantSession(string Secret, string Slug, string Name)
{
    public const string CookieName = "fidpass_session";
    private const string SecretClaim = "fidpass:session";
    private const string SlugClaim = "fidpass:slug";

    public static MerchantSession Of(ClaimsPrincipal user) => new(
        user.FindFirstValue(SecretClaim) ?? throw new SessionEndedException(),
        user.FindFirstValue(SlugClaim) ?? throw new SessionEndedException(),
        user.FindFirstValue(ClaimTypes.Name) ?? "");

    public Task SignInAsync(HttpContext context, DateTimeOffset expiresAt)
    {
        var identity = new ClaimsIdentity(
            [new Claim(SecretClaim, Secret), new Claim(SlugClaim, Slug), new Claim(ClaimTypes.Name, Name)],
            CookieAuthenticationDefaults.AuthenticationScheme);
        return context.SignInAsync(new ClaimsPrincipal(identity), new AuthenticationProperties { ExpiresUtc = expiresAt, IsPersistent = true });
    }
}

/// <summary>A merchant call the gateway refused with 401: the cookie is dropped and the merchant sees why on the sign-in page.</summary>
public sealed class SessionEndedHandler(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (SessionEndedException) when (!context.Response.HasStarted)
        {
            await context.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            context.Response.Redirect("/?session=expiree");
        }
    }
}
