using System.Text.Json.Nodes;

namespace Fidpass.Gateway.Docs;

/// <summary>
/// What an integrator (a till, a kiosk) reads in the reference for each route it calls: a French
/// description and a request and answer example, merged into the services' documents as the gateway
/// relays them. They live here, beside the reference, because they describe the routes as seen through
/// the gateway (credentials, idempotency, the slug), which no single service knows whole.
/// <c>ApiReferenceTests</c> fails when a route listed here is missing from its service's document.
/// </summary>
public static class IntegratorExamples
{
    public sealed record Example(string Service, string Method, string Path, string Description, string? Request, string Response, string Status = "200");

    private const string Auth = " Authentification : Authorization: Bearer fpk_… (clé d'intégration du commerce) ;";
    private const string Idempotent = " Envoyez un en-tête Idempotency-Key (un identifiant par vente) : la même clé rejoue la première réponse et ne crédite jamais deux fois.";

    public static IReadOnlyList<Example> All { get; } =
    [
        new("loyalty", "get", "/api/businesses/{slug}/integration/lookup",
            "Affiche le client d'une carte scannée (nom, solde) sans rien créditer." + Auth + " la route historique accepte aussi X-Dashboard-Token. "
            + "barcode : ce que lit le scanner (l'UUID de la carte, ou une URL qui le contient). 404 MEMBER_NOT_FOUND pour une carte inconnue ou d'un autre commerce.",
            null, """{"member":{"id":"3f1c2a4e-8b7d-4c21-9a55-0e6f1b2c3d4e","name":"Marie Curie","email":"marie@example.fr","points":42,"last_visit_at":"2026-12-07T09:15:00+00:00"}}"""),
        new("loyalty", "post", "/api/businesses/{slug}/integration/scan",
            "Crédite des points à partir du code-barres de la carte : amount_eur (montant de la vente en euros), visit (un passage) et/ou points." + Auth
            + " la route historique accepte aussi X-Dashboard-Token." + Idempotent + " Erreurs : {\"error\",\"code\"} (BARCODE_MISSING, MEMBER_NOT_FOUND, NO_POINTS_SPECIFIED).",
            """{"barcode":"3f1c2a4e-8b7d-4c21-9a55-0e6f1b2c3d4e","amount_eur":"12.50","visit":true}""",
            """{"member":{"id":"3f1c2a4e-8b7d-4c21-9a55-0e6f1b2c3d4e","name":"Marie Curie","email":"marie@example.fr","points":54},"points_added":12,"new_balance":54}"""),
        new("loyalty", "post", "/api/businesses/{slug}/members/{memberId}/points",
            "Crédite des points à un membre désigné par son identifiant (mêmes règles que le scan, sans code-barres)." + Auth + Idempotent,
            """{"amount_eur":"7.90"}""", """{"id":"3f1c2a4e-8b7d-4c21-9a55-0e6f1b2c3d4e","points":61}"""),
        new("loyalty", "post", "/api/businesses/{slug}/members",
            "Inscription d'un client (nom, e-mail), sans authentification : c'est ce que fait la page d'inscription publique. "
            + "Un e-mail déjà inscrit ne révèle rien en anonyme (la carte est envoyée par e-mail) ; avec la clé du commerce (droit members), le membre existant est rendu.",
            """{"name":"Marie Curie","email":"marie@example.fr"}""",
            """{"memberId":"3f1c2a4e-8b7d-4c21-9a55-0e6f1b2c3d4e","member":{"id":"3f1c2a4e-8b7d-4c21-9a55-0e6f1b2c3d4e","email":"marie@example.fr","name":"Marie Curie","points":0}}""",
            "201"),
        new("loyalty", "post", "/api/v1/merchants/{slug}/scans",
            "Crédite des points (scan) ; erreurs en application/problem+json avec un code stable." + Auth + " droit scan." + Idempotent
            + " La même clé avec un autre corps : 422.",
            """{"barcode":"3f1c2a4e-8b7d-4c21-9a55-0e6f1b2c3d4e","amount_eur":"12.50"}""",
            """{"operationId":"9d2b7c1e-4f3a-4e8b-b6a1-2c3d4e5f6a7b","member":{"id":"3f1c2a4e-8b7d-4c21-9a55-0e6f1b2c3d4e","name":"Marie Curie","points":54},"pointsAdded":12,"newBalance":54}"""),
        new("loyalty", "post", "/api/v1/merchants/{slug}/operations/{operationId}/reversal",
            "Annule les points d'une opération : l'identifiant du scan (operationId) ou d'un paiement. Jamais deux fois." + Auth + Idempotent,
            "{}", """{"operationId":"9d2b7c1e-4f3a-4e8b-b6a1-2c3d4e5f6a7b","pointsReversed":12,"points":42}"""),
        new("loyalty", "get", "/api/v1/merchants/{slug}/lookup",
            "Affiche le client d'une carte scannée sans rien créditer, avec les récompenses du catalogue que son solde couvre maintenant (rewards, "
            + "de la moins chère à la plus chère), la prochaine hors de portée et les points qui manquent (nextReward, null sinon) et la prochaine expiration (nextExpiry)."
            + Auth + " droit lookup ou scan. barcode : ce que lit le scanner. 400 barcode_missing, 404 member_not_found.",
            null, """{"member":{"id":"3f1c2a4e-8b7d-4c21-9a55-0e6f1b2c3d4e","name":"Marie Curie","email":"marie@example.fr","points":35,"lastVisitAt":"2026-12-07T09:15:00+00:00","enrolledAt":"2026-11-02T10:00:00+00:00"},"nextExpiry":null,"rewards":[{"id":"0193a1b2-7c4d-7e8f-9a0b-1c2d3e4f5a6b","name":"Café offert","points":10}],"nextReward":{"id":"0193a1b4-7c4d-7e8f-9a0b-1c2d3e4f5a6c","name":"Menu offert","points":50,"missingPoints":15}}"""),
        new("loyalty", "post", "/api/v1/merchants/{slug}/members/{memberId}/redemptions",
            "Échange des points contre une récompense : rewardId (une récompense du catalogue : nom et points viennent du catalogue), ou rewardName et points "
            + "(une récompense libre). 404 reward_not_found, 409 reward_withdrawn, 422 insufficient_points (solde insuffisant)." + Auth + " droit members."
            + " Envoyez un en-tête Idempotency-Key (un par appui sur le bouton) : la même clé rejoue la première réponse et n'échange jamais deux fois.",
            """{"rewardId":"0193a1b2-7c4d-7e8f-9a0b-1c2d3e4f5a6b"}""",
            """{"operationId":"5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9","memberId":"3f1c2a4e-8b7d-4c21-9a55-0e6f1b2c3d4e","points":25,"reward":{"id":"0193a1b2-7c4d-7e8f-9a0b-1c2d3e4f5a6b","name":"Café offert","points":10}}"""),
        new("loyalty", "get", "/api/v1/merchants/{slug}/program/rewards",
            "Le catalogue des récompenses du commerce, de la moins chère à la plus chère." + Auth + " droit program ou lookup.",
            null, """{"items":[{"id":"0193a1b2-7c4d-7e8f-9a0b-1c2d3e4f5a6b","name":"Café offert","points":10}]}"""),
        new("loyalty", "post", "/api/v1/merchants/{slug}/program/rewards",
            "Ajoute une récompense au catalogue (nom de 1 à 200 caractères, points entiers positifs, 50 récompenses au plus : 409 reward_catalogue_full)."
            + Auth + " droit program. Avec Idempotency-Key, renvoyer la même demande n'ajoute rien de plus.",
            """{"name":"Café offert","points":10}""", """{"id":"0193a1b2-7c4d-7e8f-9a0b-1c2d3e4f5a6b","name":"Café offert","points":10}""", "201"),
        new("loyalty", "put", "/api/v1/merchants/{slug}/program/rewards/{rewardId}",
            "Renomme une récompense ou change son prix en points. 404 reward_not_found, 409 reward_withdrawn." + Auth + " droit program.",
            """{"name":"Grand café offert","points":12}""", """{"id":"0193a1b2-7c4d-7e8f-9a0b-1c2d3e4f5a6b","name":"Grand café offert","points":12}"""),
        new("loyalty", "delete", "/api/v1/merchants/{slug}/program/rewards/{rewardId}",
            "Retire une récompense du catalogue (la retirer encore ne change rien). 404 reward_not_found." + Auth + " droit program.",
            null, """{"id":"0193a1b2-7c4d-7e8f-9a0b-1c2d3e4f5a6b","withdrawn":true}"""),
        new("loyalty", "post", "/api/v1/merchants/{slug}/members/import",
            "Importe jusqu'à 1 000 membres ; chaque ligne invalide est signalée, les autres sont importées." + Auth + " droit members.",
            """[{"name":"Marie Curie","email":"marie@example.fr"}]""",
            """[{"email":"marie@example.fr","memberId":"3f1c2a4e-8b7d-4c21-9a55-0e6f1b2c3d4e","reused":false}]"""),
        new("stripe-terminal", "post", "/api/v1/merchants/{slug}/terminal/payments",
            "Lance une vente par carte sur un lecteur Stripe Terminal (readerId, ou tillId d'une caisse reliée). Montant en centimes (entier, 0,50 € au moins)."
            + Auth + " droit terminal. Idempotent par saleId : renvoyer la même vente ne débite jamais deux fois. memberBarcode joint la carte de fidélité : "
            + "les points suivent l'encaissement. 409 reader_busy, reader_offline, sale_conflict.",
            """{"saleId":"ticket-0001","amount":1250,"currency":"eur","readerId":"tmr_FDOt2wlRZEdpd7","memberBarcode":"3f1c2a4e-8b7d-4c21-9a55-0e6f1b2c3d4e"}""",
            """{"saleId":"ticket-0001","paymentIntentId":"pi_3QxY","readerId":"tmr_FDOt2wlRZEdpd7","amount":1250,"currency":"eur","status":"processing","attempt":1,"memberId":"3f1c2a4e-8b7d-4c21-9a55-0e6f1b2c3d4e","loyalty":{"creditsPoints":true,"code":null,"message":null}}""",
            "202"),
        new("stripe-terminal", "get", "/api/v1/merchants/{slug}/terminal/payments/{saleId}",
            "Suit une vente par carte : status processing, succeeded, declined, reader_failed, canceled ; nextStep dit quoi faire en cas d'échec." + Auth + " droit terminal.",
            null, """{"saleId":"ticket-0001","paymentIntentId":"pi_3QxY","amount":1250,"currency":"eur","status":"succeeded","amountReceived":1250,"amountRefunded":0}"""),
        new("stripe-terminal", "post", "/api/v1/merchants/{slug}/terminal/payments/{saleId}/refunds",
            "Rembourse tout ou partie d'une vente encaissée (montant en centimes ; sans montant : tout ce qui reste). Idempotent par refundId." + Auth + " droit terminal.",
            """{"refundId":"avoir-0001","amount":1250}""", """{"saleId":"ticket-0001","status":"succeeded","amountReceived":1250,"amountRefunded":0,"amountRefundPending":1250}"""),
        new("stripe-terminal", "get", "/api/v1/merchants/{slug}/terminal/payments",
            "Les ventes par carte d'un jour (heure de Paris, ?date=AAAA-MM-JJ), chacune avec son état pour le commerçant." + Auth + " droit terminal.",
            null, """{"date":"2026-12-07","timeZone":"Europe/Paris","items":[{"saleId":"ticket-0001","readerId":"tmr_FDOt2wlRZEdpd7","amount":1250,"state":"collected","refundable":1250}]}"""),
        new("cashlogy-edge", "post", "/api/v1/merchants/{slug}/cash/machines/{machineId}/charges",
            "Encaisse un montant en espèces sur une machine Cashlogy (centimes). Idempotent par requestId : la même demande rejoue l'opération, jamais deux ventes."
            + Auth + " droit cash. memberBarcode joint la carte de fidélité. 409 machine_offline, machine_busy : rien n'a été envoyé à la machine.",
            """{"requestId":"ticket-0002","amount":1200,"memberBarcode":"3f1c2a4e-8b7d-4c21-9a55-0e6f1b2c3d4e"}""",
            """{"operationId":"0d1ee035-c71e-5ae9-91b5-ae6de68439e6","kind":"charge","amount":1200,"status":"sent","outcome":null}""", "202"),
        new("cashlogy-edge", "post", "/api/v1/merchants/{slug}/cash/machines/{machineId}/payouts",
            "Rend de l'argent : le remboursement d'une vente (saleOperationId, borné par ce qu'elle a encaissé) ou une sortie de caisse (rôle d'opérateur requis)."
            + Auth + " droit cash. Idempotent par requestId.",
            """{"requestId":"avoir-0002","amount":500,"saleOperationId":"0d1ee035-c71e-5ae9-91b5-ae6de68439e6"}""",
            """{"operationId":"6a1f0c2d-3b4e-5f6a-7b8c-9d0e1f2a3b4c","kind":"payout","amount":500,"status":"sent"}""", "202"),
        new("cashlogy-edge", "get", "/api/v1/merchants/{slug}/cash/operations/{operationId}",
            "Suit une opération en espèces : progression (montant inséré), puis issue (completed, cancelled, rejected…) avec les montants comptés par la machine." + Auth + " droit cash.",
            null, """{"operationId":"0d1ee035-c71e-5ae9-91b5-ae6de68439e6","status":"settled","outcome":"completed","inserted":1500,"returned":300,"collected":1200,"reconciled":false}"""),
        new("cashlogy-edge", "get", "/api/v1/merchants/{slug}/cash/sales",
            "Les ventes en espèces d'un jour (heure de Paris, ?date=AAAA-MM-JJ) avec leur état, y compris « unknown » puis réconciliée." + Auth + " droit cash.",
            null, """{"date":"2026-12-07","timeZone":"Europe/Paris","items":[{"operationId":"0d1ee035-c71e-5ae9-91b5-ae6de68439e6","amount":1200,"state":"collected","reconciled":false,"refundable":1200}]}"""),
    ];

    /// <summary>The service's document with the descriptions and examples of its integrator routes.</summary>
    public static string Add(string service, string document)
    {
        if (JsonNode.Parse(document) is not JsonObject root || root["paths"] is not JsonObject paths)
        {
            return document;
        }

        foreach (var example in All.Where(e => e.Service == service))
        {
            if (Find(paths, example.Path)?[example.Method] is not JsonObject operation)
            {
                continue;
            }

            operation["description"] = operation["description"] is JsonValue existing && existing.ToString().Length > 0
                ? existing.ToString() + "\n\n" + example.Description
                : example.Description;
            if (example.Request is not null)
            {
                var body = operation["requestBody"] as JsonObject ?? new JsonObject();
                operation["requestBody"] = body;
                Content(body)["example"] = JsonNode.Parse(example.Request);
            }

            var responses = operation["responses"] as JsonObject ?? new JsonObject();
            operation["responses"] = responses;
            var answer = responses[example.Status] as JsonObject ?? new JsonObject { ["description"] = "OK" };
            responses[example.Status] = answer;
            Content(answer)["example"] = JsonNode.Parse(example.Response);
        }

        return root.ToJsonString();
    }

    /// <summary>A route's path in a document: the same, give or take a trailing slash.</summary>
    public static JsonObject? Find(JsonObject paths, string path) =>
        (paths[path] ?? paths[path + "/"]) as JsonObject;

    private static JsonObject Content(JsonObject holder)
    {
        var content = holder["content"] as JsonObject ?? new JsonObject();
        holder["content"] = content;
        var json = content["application/json"] as JsonObject ?? new JsonObject();
        content["application/json"] = json;
        return json;
    }
}
