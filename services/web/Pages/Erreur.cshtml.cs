using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Fidpass.Web.Pages;

/// <summary>What a merchant sees instead of a stack trace.</summary>
[AllowAnonymous]
[IgnoreAntiforgeryToken]
public sealed class ErreurModel : PageModel
{
    public bool IsNotFound { get; private set; }

    public void OnGet(int? code) => IsNotFound = code == StatusCodes.Status404NotFound;

    public void OnPost(int? code) => OnGet(code);
}
