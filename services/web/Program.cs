using Fidpass.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults(usesPostgres: false);

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapGet("/", () => Results.Content(
    "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>Fidpass</title></head><body><h1>Fidpass</h1><p>Espace commerçant.</p></body></html>",
    "text/html; charset=utf-8"));

app.Run();
