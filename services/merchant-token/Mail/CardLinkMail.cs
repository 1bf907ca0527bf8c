using Fidpass.Contracts.Loyalty;
using Fidpass.MerchantToken.Merchants;
using JasperFx;
using Marten;
using MassTransit;

namespace Fidpass.MerchantToken.Mail;

/// <summary>A card link mailed once: the document id is the request's id.</summary>
public sealed record CardLinkMailed(Guid Id, Guid MerchantId, DateTimeOffset SentAt);

/// <summary>
/// Someone enrolled anonymously with the e-mail of an existing member: loyalty disclosed nothing and
/// asked for the card link to be mailed to that address (only its owner can read it). Each request is
/// mailed once: its id is recorded before sending, so a redelivered message sends nothing, and the
/// record is removed when sending fails so the retry can send.
/// </summary>
public sealed class CardLinkMailConsumer(IDocumentStore store, IMailSender mail, IConfiguration configuration, TimeProvider clock, ILogger<CardLinkMailConsumer> logger)
    : IConsumer<MemberCardLinkRequested>
{
    public async Task Consume(ConsumeContext<MemberCardLinkRequested> context)
    {
        var message = context.Message;
        var ct = context.CancellationToken;
        await using (var session = store.LightweightSession())
        {
            var merchant = await session.LoadAsync<Merchant>(message.MerchantId, ct);
            if (merchant is null)
            {
                logger.LogWarning("Card link for an unknown merchant {MerchantId}: not mailed", message.MerchantId);
                return;
            }

            session.Insert(new CardLinkMailed(message.RequestId, message.MerchantId, clock.GetUtcNow()));
            try
            {
                await session.SaveChangesAsync(ct);
            }
            catch (DocumentAlreadyExistsException)
            {
                return;
            }

            try
            {
                await mail.SendAsync(For(merchant, message.Email, CardUrl(configuration, merchant.Slug, message.MemberId),
                    WalletUrl(configuration, merchant.Slug, message.MemberId, "apple"), WalletUrl(configuration, merchant.Slug, message.MemberId, "google")), ct);
            }
            catch (Exception)
            {
                await using var undo = store.LightweightSession();
                undo.Delete<CardLinkMailed>(message.RequestId);
                await undo.SaveChangesAsync(CancellationToken.None);
                throw;
            }
        }
    }

    /// <summary>The member's card page on the web space (<c>/carte/{slug}/{memberId}</c>).</summary>
    public static string CardUrl(IConfiguration configuration, string slug, Guid memberId) =>
        $"{MerchantRegistration.WebUrl(configuration)}/carte/{Uri.EscapeDataString(slug)}/{memberId}";

    /// <summary>
    /// The card for the phone's wallet, from the wallet service through the gateway's public route
    /// (<c>Fidpass:ApiUrl</c>): <paramref name="wallet"/> <c>apple</c> downloads the pass,
    /// <c>google</c> opens Google's save page.
    /// </summary>
    public static string WalletUrl(IConfiguration configuration, string slug, Guid memberId, string wallet) =>
        $"{(configuration["Fidpass:ApiUrl"] ?? "http://127.0.0.1:5080").TrimEnd('/')}/api/v1/merchants/{Uri.EscapeDataString(slug)}/cards/{memberId}/wallet/{wallet}";

    public static OutgoingMail For(Merchant merchant, string email, string cardUrl, string appleWalletUrl, string googleWalletUrl) => new(
        email,
        $"Votre carte de fidélité — {merchant.Name}",
        $"""
        Bonjour,

        Quelqu'un (peut-être vous) a demandé à s'inscrire au programme de fidélité de « {merchant.Name} » avec cette adresse e-mail, qui y est déjà inscrite. Voici le lien de votre carte :

        {cardUrl}

        Ajoutez-la à votre téléphone :
        - Apple Wallet (iPhone) : {appleWalletUrl}
        - Google Wallet (Android) : {googleWalletUrl}

        Gardez ces liens pour vous : il donne accès à vos points. Si vous n'êtes pas à l'origine de cette demande, ignorez ce message.

        L'équipe Fidpass
        """);
}
