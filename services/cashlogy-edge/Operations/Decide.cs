using System.Security.Cryptography;
using System.Text;
using Fidpass.CashlogyEdge.Protocol;

namespace Fidpass.CashlogyEdge.Operations;

/// <summary>Pure decisions: what the machine's reply (or a reconciliation) means for an operation.</summary>
public static class Decide
{
    /// <summary>Result code of an operation settled by reconciliation: the connection (or the edge) was lost before the machine's reply.</summary>
    public const string ConnectionLost = "connection_lost";

    /// <summary>
    /// One operation per machine and till request id, whatever the retries: the stream id is a
    /// name-based UUID, so a replay finds the same stream and the database refuses a second one.
    /// </summary>
    public static Guid OperationId(Guid machineId, string requestId)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"cashlogy-operation:{machineId:N}:{requestId}"));
        var bytes = hash.AsSpan(0, 16).ToArray();
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x50);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true);
    }

    /// <summary>A second outcome for the same operation is refused: exactly one recorded outcome.</summary>
    public static CashOperationSettled? Settle(CashOperation operation, CashOperationSettled outcome) =>
        operation.IsSettled ? null : outcome;

    /// <summary>Express <c>#C#</c> reply → outcome. Net = auto + manual − returned, checked against the request.</summary>
    public static CashOperationSettled Charge(CashOperation op, CashlogyReply reply, DateTimeOffset now)
    {
        var f = ChargeFigures.From(reply);
        return ChargeOutcome(op, reply.Code, f.Inserted, f.Returned, f.Manual, f.ChangeAdded, reply.IsLevelWarning, reconciled: false, now);
    }

    public static CashOperationSettled ChargeOutcome(CashOperation op, string code, long inserted, long returned, long manual, long changeAdded,
        bool levelWarning, bool reconciled, DateTimeOffset now)
    {
        var net = inserted + manual - returned;
        (Outcome outcome, long collected, long shortfall, string? detail) = code switch
        {
            CashlogyReply.Ok or CashlogyReply.Level when net == op.Amount => (Outcome.Completed, op.Amount, 0L, (string?)null),
            CashlogyReply.Ok or CashlogyReply.Level when net > op.Amount =>
                (Outcome.ChangeShort, op.Amount, net - op.Amount, $"Monnaie non rendue : {Euros(net - op.Amount)} à rendre à la main."),
            CashlogyReply.Ok or CashlogyReply.Level when op.AllowPartial =>
                (Outcome.PartiallyPaid, Math.Max(0, net), 0L, $"Paiement partiel : reste {Euros(op.Amount - Math.Max(0, net))} à encaisser autrement."),
            CashlogyReply.Ok or CashlogyReply.Level =>
                (Outcome.NeedsAttention, Math.Max(0, net), 0L, $"Montant encaissé ({Euros(net)}) différent du montant demandé ({Euros(op.Amount)})."),
            CashlogyReply.Cancelled => (Outcome.Cancelled, 0L, Math.Max(0, inserted - returned),
                inserted > returned ? $"Vente annulée, {Euros(inserted - returned)} non rendus au client." : "Vente annulée, rien n'a été encaissé."),
            CashlogyReply.Busy or CashlogyReply.Illegal or CashlogyReply.BadData => (Outcome.Rejected, 0L, 0L, RejectionDetail(code)),
            _ => (Outcome.Failed, 0L, Math.Max(0, inserted - returned), "La machine a signalé une erreur (ER:GENERIC)."),
        };
        return new CashOperationSettled(op.Id, op.MerchantId, op.MachineId, op.Kind, outcome, code, inserted, returned, manual, changeAdded,
            0, collected, shortfall, levelWarning, reconciled, detail, op.MemberId, op.BasketReference, op.SalePaymentId, op.Currency, now);
    }

    /// <summary><c>#P#</c> reply → outcome; <c>ER:GENERIC</c> carries what was really paid.</summary>
    public static CashOperationSettled Payout(CashOperation op, CashlogyReply reply, DateTimeOffset now)
    {
        var paid = DispenseFigures.From(reply).Dispensed;
        return PayoutOutcome(op, reply.Code, paid, reply.IsLevelWarning, reconciled: false, now);
    }

    public static CashOperationSettled PayoutOutcome(CashOperation op, string code, long paid, bool levelWarning, bool reconciled, DateTimeOffset now)
    {
        (Outcome outcome, string? detail) = code switch
        {
            CashlogyReply.Busy or CashlogyReply.Illegal or CashlogyReply.BadData => (Outcome.Rejected, RejectionDetail(code)),
            _ when paid >= op.Amount => (Outcome.Completed, (string?)null),
            _ when paid > 0 => (Outcome.PartiallyPaid, $"Rendu incomplet : {Euros(op.Amount - paid)} à rendre à la main."),
            _ => (Outcome.Failed, "La machine n'a rien pu rendre."),
        };
        if (outcome == Outcome.Rejected)
        {
            paid = 0;
        }

        return new CashOperationSettled(op.Id, op.MerchantId, op.MachineId, op.Kind, outcome, code, 0, 0, 0, 0,
            paid, 0, Math.Max(0, op.Amount - paid), levelWarning, reconciled, detail, op.MemberId, op.BasketReference, op.SalePaymentId, op.Currency, now);
    }

    /// <summary>
    /// <c>#U#</c> reply → outcome: the list really dispensed (or moved to the stacker) against the one asked
    /// for. <c>ER:GENERIC</c> with zeros = nothing left the machine.
    /// </summary>
    public static CashOperationSettled Dispensation(CashOperation op, CashlogyReply reply, DateTimeOffset now)
    {
        var given = reply.IsRejection ? new DenominationList([], new Dictionary<string, long>()) : DenominationList.Parse(reply.Text(0));
        var paid = given.TotalCents;
        var where = op.Destination switch
        {
            "stacker" => "déplacés vers le stacker",
            "safebox" => "déplacés vers le coffre",
            _ => "sortis",
        };
        (Outcome outcome, string detail) = reply.Code switch
        {
            CashlogyReply.Busy or CashlogyReply.Illegal or CashlogyReply.BadData => (Outcome.Rejected,
                reply.Code == CashlogyReply.BadData && op.Destination == "safebox" ? "Cette machine n'a pas de coffre. Rien n'a bougé." : RejectionDetail(reply.Code)),
            _ when paid >= op.Amount && paid > 0 => (Outcome.Completed, $"{Euros(paid)} {where}."),
            _ when paid > 0 => (Outcome.PartiallyPaid, $"Seulement {Euros(paid)} {where} sur {Euros(op.Amount)} : une valeur manquait."),
            _ => (Outcome.Failed, $"Rien n'a été {(op.Destination is "stacker" or "safebox" ? "déplacé" : "sorti")} : la machine n'avait pas ces valeurs ou a signalé une erreur."),
        };
        return new CashOperationSettled(op.Id, op.MerchantId, op.MachineId, op.Kind, outcome, reply.Code, 0, 0, 0, 0,
            outcome == Outcome.Rejected ? 0 : paid, 0, outcome == Outcome.Rejected ? 0 : Math.Max(0, op.Amount - paid), reply.IsLevelWarning, false, detail,
            null, null, null, op.Currency, now, outcome == Outcome.Rejected ? null : given.Format());
    }

    /// <summary>
    /// A lost reply, settled from the inventory totals before and after (spec 5.1 "Reconciler"): the
    /// machine is the only place money moves, so the difference is what the operation did. Anything
    /// that is not a clean "all" or "nothing" needs a person.
    /// </summary>
    public static CashOperationSettled Reconcile(CashOperation op, long totalAfter, DateTimeOffset now)
    {
        var delta = totalAfter - (op.TotalBefore ?? totalAfter);
        if (op.TotalBefore is null)
        {
            return Attention(op, "Pas d'inventaire avant l'opération : vérifiez la caisse.", now);
        }

        // The machine's answer never came: the result says so rather than borrowing a reply code.
        if (op.Kind == OperationKind.Charge)
        {
            if (delta == op.Amount)
            {
                var collected = ChargeOutcome(op, CashlogyReply.Ok, delta, 0, 0, 0, false, reconciled: true, now);
                return collected with { ResultCode = ConnectionLost, Detail = $"Réponse perdue ; la caisse a augmenté de {Euros(delta)} : vente encaissée." };
            }

            if (delta == 0)
            {
                var nothing = ChargeOutcome(op, CashlogyReply.Cancelled, 0, 0, 0, 0, false, reconciled: true, now);
                return nothing with { ResultCode = ConnectionLost, Detail = "Réponse perdue ; la caisse n'a pas varié : rien n'a été encaissé." };
            }

            return Attention(op, $"Réponse perdue ; la caisse a varié de {Euros(delta)} pour une vente de {Euros(op.Amount)}.", now);
        }

        if (op.Kind == OperationKind.Payout)
        {
            var payout = PayoutOutcome(op, delta == -op.Amount ? CashlogyReply.Ok : CashlogyReply.Generic, Math.Max(0, -delta), false, reconciled: true, now);
            return payout with { ResultCode = ConnectionLost, Detail = "Réponse perdue. " + (payout.Detail ?? $"La caisse a rendu {Euros(op.Amount)}.") };
        }

        return Attention(op, $"Réponse perdue pendant une opération de maintenance ; la caisse a varié de {Euros(delta)}.", now);
    }

    private static CashOperationSettled Attention(CashOperation op, string detail, DateTimeOffset now) =>
        new(op.Id, op.MerchantId, op.MachineId, op.Kind, Outcome.NeedsAttention, "UNKNOWN", 0, 0, 0, 0, 0, 0, 0, false, true, detail,
            op.MemberId, op.BasketReference, op.SalePaymentId, op.Currency, now);

    public static string RejectionDetail(string code) => code switch
    {
        CashlogyReply.Busy => "La machine est occupée (un écran est ouvert ou une opération est en cours). Rien n'a été encaissé.",
        CashlogyReply.Illegal => "La machine n'est pas prête (non initialisée). Rien n'a été encaissé.",
        _ => "La machine a refusé les paramètres. Rien n'a été encaissé.",
    };

    public static string Euros(long cents) =>
        string.Create(System.Globalization.CultureInfo.GetCultureInfo("fr-FR"), $"{cents / 100m:0.00} €");
}
