using Fidpass.ServiceDefaults;
using Fidpass.Web;
using Fidpass.Web.Pages.Merchant.Membres;
using Fidpass.Web.Pages.Public;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults(usesPostgres: false);
builder.AddWebSpace();

var app = builder.Build();

// Defaults first: their exception handler must be outside the web space's own (error page, ended session → sign-in page).
app.MapDefaultEndpoints();
app.UseWebSpace();
app.MapRazorPages();
app.MapCardManifest();
app.MapMembersExport();

app.Run();
