using System.Net;
using System.Net.Mail;
using System.Text;
using Fidpass.MerchantToken.Merchants;
using Marten;

namespace Fidpass.MerchantToken.Mail;

public sealed record OutgoingMail(string To, string Subject, string TextBody);

/// <summary>Sends e-mail: SMTP when <c>Smtp:Host</c> is configured, otherwise the development mailbox.</summary>
public interface IMailSender
{
    Task SendAsync(OutgoingMail mail, CancellationToken cancellationToken);
}

public static class SignInMail
{
    public static OutgoingMail For(Merchant merchant, string signInUrl) => new(
        merchant.Email,
        $"Votre espace Fidpass — {merchant.Name}",
        $"""
        Bonjour,

        L'espace Fidpass de « {merchant.Name} » est prêt. Pour vous connecter, ouvrez ce lien :

        {signInUrl}

        Ce lien est personnel : ne le partagez qu'avec votre intégrateur de caisse. Vous pourrez le régénérer depuis votre espace.

        L'équipe Fidpass
        """);
}

/// <summary>Production: plain SMTP (<c>Smtp:Host</c>, <c>Smtp:Port</c>, <c>Smtp:From</c>, optional <c>Smtp:User</c>/<c>Smtp:Password</c>, <c>Smtp:EnableSsl</c>).</summary>
public sealed class SmtpMailSender(IConfiguration configuration) : IMailSender
{
    public async Task SendAsync(OutgoingMail mail, CancellationToken cancellationToken)
    {
        var smtp = configuration.GetSection("Smtp");
        using var client = new SmtpClient(smtp["Host"], int.TryParse(smtp["Port"], out var port) ? port : 587)
        {
            EnableSsl = !string.Equals(smtp["EnableSsl"], "false", StringComparison.OrdinalIgnoreCase),
        };
        if (!string.IsNullOrEmpty(smtp["User"]))
        {
            client.Credentials = new NetworkCredential(smtp["User"], smtp["Password"]);
        }

        using var message = new MailMessage(smtp["From"] ?? "no-reply@fidpass.local", mail.To, mail.Subject, mail.TextBody)
        {
            BodyEncoding = Encoding.UTF8,
            SubjectEncoding = Encoding.UTF8,
        };
        await client.SendMailAsync(message, cancellationToken);
    }
}

/// <summary>A mail "sent" while running locally, kept in Marten and shown at <c>/dev/mailbox</c>.</summary>
public sealed record DevMail(Guid Id, string To, string Subject, string TextBody, DateTimeOffset SentAt);

/// <summary>Development: no SMTP server, mails land in a mailbox page (only when <c>Smtp:Host</c> is empty).</summary>
public sealed class DevMailbox(IDocumentStore store, TimeProvider clock) : IMailSender
{
    public async Task SendAsync(OutgoingMail mail, CancellationToken cancellationToken)
    {
        await using var session = store.LightweightSession();
        session.Store(new DevMail(Guid.CreateVersion7(), mail.To, mail.Subject, mail.TextBody, clock.GetUtcNow()));
        await session.SaveChangesAsync(cancellationToken);
    }
}

public static class MailApi
{
    public static bool UsesSmtp(IConfiguration configuration) => !string.IsNullOrWhiteSpace(configuration["Smtp:Host"]);

    public const string MissingSmtpInProduction =
        "Smtp:Host is not configured. In Production merchant-token sends sign-in links by e-mail and never keeps them in the development mailbox: "
        + "set Smtp:Host (and Smtp:From, Smtp:Port, Smtp:User, Smtp:Password as needed), or run with ASPNETCORE_ENVIRONMENT=Development.";

    /// <summary>SMTP when configured; otherwise the development mailbox, except in Production, where starting is refused.</summary>
    public static IHostApplicationBuilder AddMail(this IHostApplicationBuilder builder)
    {
        if (UsesSmtp(builder.Configuration))
        {
            builder.Services.AddSingleton<IMailSender, SmtpMailSender>();
        }
        else if (builder.Environment.IsProduction())
        {
            // Live sign-in links stored in a table anyone with database access can read: never in Production.
            throw new InvalidOperationException(MissingSmtpInProduction);
        }
        else
        {
            builder.Services.AddSingleton<IMailSender, DevMailbox>();
        }

        return builder;
    }

    /// <summary>The development mailbox pages; mapped only when mails are not sent by SMTP (never in Production), and never routed by the gateway.</summary>
    public static WebApplication MapDevMailboxApi(this WebApplication app)
    {
        if (UsesSmtp(app.Configuration))
        {
            return app;
        }

        var dev = app.MapGroup("/dev").WithTags("Développement");
        dev.MapGet("/mailbox.json", async (IQuerySession session, CancellationToken ct) => TypedResults.Ok(await LatestAsync(session, ct)))
            .WithName("DevMailboxJson")
            .WithSummary("Boîte mail de développement (JSON)")
            .WithDescription("Les 100 derniers e-mails « envoyés » quand aucun serveur SMTP n'est configuré.");
        dev.MapGet("/mailbox", async (IQuerySession session, CancellationToken ct) => TypedResults.Content(Render(await LatestAsync(session, ct)), "text/html; charset=utf-8"))
            .WithName("DevMailbox")
            .WithSummary("Boîte mail de développement")
            .WithDescription("Page HTML listant les e-mails « envoyés » (liens de connexion) quand aucun serveur SMTP n'est configuré.");
        return app;
    }

    private static async Task<IReadOnlyList<DevMail>> LatestAsync(IQuerySession session, CancellationToken ct) =>
        await session.Query<DevMail>().OrderByDescending(m => m.SentAt).Take(100).ToListAsync(ct);

    private static string Render(IReadOnlyList<DevMail> mails)
    {
        var html = new StringBuilder("""
            <!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Boîte mail de développement — Fidpass</title>
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <style>body{font-family:system-ui,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem}article{border:1px solid #ccc;border-radius:.5rem;padding:1rem;margin:1rem 0}pre{white-space:pre-wrap;word-break:break-all}</style>
            </head><body><h1>Boîte mail de développement</h1>
            <p>Aucun serveur SMTP n'est configuré (<code>Smtp:Host</code>) : les e-mails envoyés par Fidpass s'affichent ici.</p>
            """);
        if (mails.Count == 0)
        {
            html.Append("<p>Aucun e-mail pour le moment.</p>");
        }

        foreach (var mail in mails)
        {
            html.Append("<article><h2>").Append(WebUtility.HtmlEncode(mail.Subject)).Append("</h2><p>À : ")
                .Append(WebUtility.HtmlEncode(mail.To)).Append(" — ")
                .Append(WebUtility.HtmlEncode(mail.SentAt.ToString("dd/MM/yyyy HH:mm:ss 'UTC'", System.Globalization.CultureInfo.InvariantCulture)))
                .Append("</p><pre>").Append(WebUtility.HtmlEncode(mail.TextBody)).Append("</pre></article>");
        }

        return html.Append("</body></html>").ToString();
    }
}
