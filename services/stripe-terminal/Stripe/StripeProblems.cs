using Fidpass.ServiceDefaults;
using Stripe;

namespace Fidpass.StripeTerminal.Stripe;

/// <summary>Stripe's errors as the till should read them: a stable code and the next step, in French.</summary>
public static class StripeProblems
{
    public const string ReaderOffline = "terminal_reader_offline";
    public const string ReaderBusy = "terminal_reader_busy";
    public const string ReaderTimeout = "terminal_reader_timeout";
    public const string IntentInvalidState = "intent_invalid_state";

    public static IResult From(StripeException ex, string? paymentIntentId = null)
    {
        var extra = paymentIntentId is null ? null : new Dictionary<string, object?> { ["paymentIntentId"] = paymentIntentId };
        return ex.StripeError?.Code switch
        {
            ReaderOffline => ApiProblems.Problem(409, "reader_offline",
                "Le lecteur est hors ligne : vérifiez qu'il est allumé et connecté à Internet, puis relancez le paiement. Rien n'a été débité.", extra),
            ReaderBusy => ApiProblems.Problem(409, "reader_busy",
                "Le lecteur est occupé par une autre opération. Attendez qu'elle se termine ou annulez-la sur le lecteur, puis réessayez.", extra),
            ReaderTimeout => ApiProblems.Problem(409, "reader_timeout",
                "Le lecteur n'a pas répondu à temps. Vérifiez sa connexion puis relancez le même paiement : il ne sera pas débité deux fois.", extra),
            "resource_missing" => ApiProblems.Problem(404, "stripe_resource_missing",
                "Stripe ne connaît pas cet objet (lecteur, emplacement ou paiement).", extra),
            _ when (int)ex.HttpStatusCode >= 500 || ex.StripeError is null => ApiProblems.Problem(502, "stripe_unavailable",
                "Stripe ne répond pas pour le moment. Réessayez dans un instant.", extra),
            var code => ApiProblems.Problem(422, "stripe_refused",
                $"Stripe a refusé l'opération ({code ?? ex.StripeError?.Type}).", extra),
        };
    }
}
