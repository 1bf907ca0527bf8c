using System.Text.Json;
using Fidpass.ServiceDefaults;
using Fidpass.StripeTerminal.Payments;
using Fidpass.StripeTerminal.Stripe;
using Marten;
using Stripe;
using Stripe.Terminal;

namespace Fidpass.StripeTerminal.Readers;

public sealed record CartLine(string Description, long Amount, long Quantity);

public sealed record Cart(string Currency, IReadOnlyList<CartLine> LineItems, long Tax, long Total);

/// <summary>
/// The basket shown on the reader while the cashier rings it up (<c>set_reader_display</c>, spec
/// 3.1 and pitfall 7.6). A display stays on until the payment replaces it or it is cleared, so
/// there is never a timer re-sending it; and it is refused while a payment is on the reader,
/// because Stripe would silently replace the payment that has not started.
/// </summary>
public static class ReaderDisplayApi
{
    private const int MaxLines = 100;

    // Bounds that keep amount × quantity far from overflow: 999 999,99 € a line, 9 999 items.
    private const long MaxAmount = 99_999_999;
    private const long MaxQuantity = 9_999;

    public static RouteGroupBuilder MapReaderDisplayApi(this RouteGroupBuilder group)
    {
        group.MapPut("/readers/{readerId}/display", ShowAsync)
            .WithSummary("Afficher le panier sur le lecteur (montants entiers en centimes ; refusé pendant un paiement)")
            .Produces<ReaderView>().ProducesProblem(400).ProducesProblem(404).ProducesProblem(409);
        group.MapDelete("/readers/{readerId}/display", ClearAsync)
            .WithSummary("Effacer le panier affiché (n'annule jamais un paiement)").ProducesProblem(404);
        return group;
    }

    private static async Task<IResult> ShowAsync(
        HttpContext http, string readerId, IDocumentSession session, StripeClient stripe, ReaderStatuses statuses, CancellationToken ct)
    {
        var merchant = http.Merchant();
        var (cart, invalid) = await ReadCartAsync(http.Request, ct);
        if (invalid is not null)
        {
            return invalid;
        }

        if (await ReadersApi.OwnedAsync(session, merchant.MerchantId, readerId, ct) is not { } reader)
        {
            return ReadersApi.ReaderNotFound();
        }

        // Our own journal first: a sale handed to this reader and not finished yet.
        if (await session.Query<CardPayment>().AnyAsync(p => p.ReaderId == readerId && p.AttemptOpen, ct))
        {
            return PaymentInProgress();
        }

        var call = StripeSetup.Call(await session.StripeAccountAsync(merchant.MerchantId, ct));
        try
        {
            // Then the reader itself (a payment started elsewhere, e.g. from the Stripe dashboard).
            var live = await stripe.V1.Terminal.Readers.GetAsync(readerId, null, call, ct);
            await statuses.ObserveAsync(reader, live.Status, ct);
            if (live.Action is { Status: "in_progress", Type: not "set_reader_display" })
            {
                return PaymentInProgress();
            }

            // No idempotency key of ours: showing the same basket again later must really show it again.
            var shown = await stripe.V1.Terminal.Readers.SetReaderDisplayAsync(readerId, new ReaderSetReaderDisplayOptions
            {
                Type = "cart",
                Cart = new ReaderCartOptions
                {
                    Currency = cart!.Currency,
                    LineItems = [.. cart.LineItems.Select(l => new ReaderCartLineItemOptions { Description = l.Description, Amount = l.Amount, Quantity = l.Quantity })],
                    Tax = cart.Tax,
                    Total = cart.Total,
                },
            }, call, ct);
            return TypedResults.Ok(ReaderView.From(reader with { Status = shown.Status, LastSeenAt = shown.LastSeenAt }, Describe(shown.Action)));
        }
        catch (StripeException ex)
        {
            return StripeProblems.From(ex);
        }
    }

    private static async Task<IResult> ClearAsync(HttpContext http, string readerId, IDocumentSession session, StripeClient stripe, CancellationToken ct)
    {
        var merchant = http.Merchant();
        if (await ReadersApi.OwnedAsync(session, merchant.MerchantId, readerId, ct) is null)
        {
            return ReadersApi.ReaderNotFound();
        }

        var call = StripeSetup.Call(await session.StripeAccountAsync(merchant.MerchantId, ct));
        try
        {
            // Gate on the action's type: cancel_action on anything else would end a payment.
            var live = await stripe.V1.Terminal.Readers.GetAsync(readerId, null, call, ct);
            if (live.Action is { Type: "set_reader_display" })
            {
                await stripe.V1.Terminal.Readers.CancelActionAsync(readerId, new ReaderCancelActionOptions(), call, ct);
            }

            return TypedResults.NoContent();
        }
        catch (StripeException ex)
        {
            return StripeProblems.From(ex);
        }
    }

    private static string? Describe(ReaderAction? action) => action is null ? null : $"{action.Type}:{action.Status}";

    private static IResult PaymentInProgress() => ApiProblems.Problem(409, "reader_payment_in_progress",
        "Un paiement est en cours sur ce lecteur : afficher le panier le remplacerait. Attendez la fin du paiement.");

    private static IResult Invalid(string code, string detail) => ApiProblems.Problem(400, code, detail);

    /// <summary>Integer minor units only: a decimal amount makes a real reader show a blank screen (spec 7.6).</summary>
    private static async Task<(Cart? Cart, IResult? Invalid)> ReadCartAsync(HttpRequest request, CancellationToken ct)
    {
        var (body, invalid) = await JsonBody.ReadObjectAsync(request, ct);
        if (invalid is not null)
        {
            return (null, invalid);
        }

        var currency = body.TryGetProperty("currency", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString()!.ToLowerInvariant() : "eur";
        if (currency != "eur")
        {
            return (null, Invalid("unsupported_currency", "Seul l'euro (eur) est accepté."));
        }

        if (!body.TryGetProperty("lineItems", out var items) || items.ValueKind != JsonValueKind.Array
            || items.GetArrayLength() is 0 or > MaxLines)
        {
            return (null, Invalid("cart_lines_required", $"Indiquez les lignes du panier (lineItems, de 1 à {MaxLines})."));
        }

        var lines = new List<CartLine>();
        foreach (var item in items.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object
                || !item.TryGetProperty("description", out var d) || d.ValueKind != JsonValueKind.String
                || d.GetString() is not { Length: > 0 and <= 100 } description || string.IsNullOrWhiteSpace(description))
            {
                return (null, Invalid("cart_line_invalid", "Chaque ligne du panier a un libellé (100 caractères au plus)."));
            }

            if (Integer(item, "amount") is not (>= -MaxAmount and <= MaxAmount and var amount))
            {
                return (null, Invalid("cart_amount_invalid", $"Le prix de « {description} » doit être un nombre entier de centimes."));
            }

            var quantity = item.TryGetProperty("quantity", out _) ? Integer(item, "quantity") : 1;
            if (quantity is not (> 0 and <= MaxQuantity))
            {
                return (null, Invalid("cart_line_invalid", $"La quantité de « {description} » doit être un entier entre 1 et {MaxQuantity}."));
            }

            lines.Add(new CartLine(description, amount, quantity.Value));
        }

        var tax = 0L;
        if (body.TryGetProperty("tax", out _))
        {
            if (Integer(body, "tax") is not (>= 0 and <= MaxAmount and var t))
            {
                return (null, Invalid("cart_amount_invalid", "La TVA (tax) doit être un nombre entier de centimes, positif ou nul."));
            }

            tax = t;
        }

        var total = lines.Sum(l => l.Amount * l.Quantity) + tax;
        if (body.TryGetProperty("total", out _))
        {
            if (Integer(body, "total") is not { } given)
            {
                return (null, Invalid("cart_amount_invalid", "Le total doit être un nombre entier de centimes."));
            }

            if (given != total)
            {
                return (null, Invalid("cart_total_mismatch", $"Le total ({given}) ne correspond pas aux lignes et à la TVA ({total} centimes)."));
            }
        }

        if (total < 0)
        {
            return (null, Invalid("cart_amount_invalid", "Le total du panier ne peut pas être négatif."));
        }

        return (new Cart(currency, lines, tax, total), null);
    }

    private static long? Integer(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? n : null;
}
