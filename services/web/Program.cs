using Fidpass.ServiceDefaults;
using Fidpass.Web;
using Fidpass.Web.Pages.Merchant.Membres;
using Fidpass.Web.Pages.Public;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults(usesPostgres: false);
builder.AddWebSpace();

var app = builder.Build();

app.UseWebSpace();
app.MapDefaultEndpoints();
app.MapRazorPages();
app.MapCardManifest();
app.MapMembersExport();

app.Run();
