using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Fidpass.Wallet.Passes;
using Marten;

namespace Fidpass.Wallet.Google;

/// <summary>
/// What Google Wallet holds of a member's card (document id = member UUID): whether the object
/// exists, the hash of the body last sent (an unchanged card is not patched again), the last change
/// announced with <c>addMessage</c>, and whether it was expired by an erasure.
/// </summary>
public sealed record GoogleObjectState(Guid Id, bool Created, string? Hash, Guid? MessagedChange, bool Expired);

/// <summary>
/// Keeps Google's copy of the card in step with the pass: inserts the merchant's class and the
/// member's object when missing (404, as Google answers), patches the object when what it shows
/// changed, announces a balance change with a message, expires the object of an erased member.
/// A failure returns false and <see cref="PendingNotifications"/> tries again.
/// </summary>
public sealed class GoogleWalletSync(IHttpClientFactory clients, GoogleServiceAccount account, GoogleLoyalty loyalty, GoogleOptions options,
    IDocumentStore store, ILogger<GoogleWalletSync> log)
{
    public const string HttpClientName = "google-wallet";

    // Class bodies this replica knows Google has (by class id): a shop's class is sent once, not once per card.
    private readonly ConcurrentDictionary<string, string> _classes = new();

    /// <summary>True when Google shows the pass as it is now.</summary>
    public async Task<bool> SyncAsync(WalletPass pass, WalletMerchant merchant, CancellationToken ct)
    {
        if (GoogleRefusesUs)
        {
            return true;
        }

        try
        {
            await using var session = store.LightweightSession();
            var state = await session.LoadAsync<GoogleObjectState>(pass.Id, ct) ?? new GoogleObjectState(pass.Id, false, null, null, false);
            var next = pass.Erased ? await ExpireAsync(pass, state, ct) : await UpdateAsync(pass, merchant, state, ct);
            if (next != state)
            {
                session.Store(next);
                await session.SaveChangesAsync(ct);
            }

            return true;
        }
        catch (HttpRequestException e)
        {
            WalletMetrics.GoogleUpdate("failed");
            log.LogWarning(e, "Google Wallet not updated for pass {Pass}; retried later", pass.Id);
            return false;
        }
    }

    /// <summary>
    /// A generated key aimed at Google's own API (a cluster without the Secret): Google would refuse
    /// every call, forever retried. The cards then live without their Google copy.
    /// </summary>
    private bool GoogleRefusesUs => !account.Configured && new Uri(options.ApiBaseAddress).Host.EndsWith(".googleapis.com", StringComparison.OrdinalIgnoreCase);

    /// <summary>The merchant's class as it should be (after a branding change): patched, or inserted when Google has none.</summary>
    public async Task<bool> SyncClassAsync(WalletMerchant merchant, CancellationToken ct)
    {
        if (GoogleRefusesUs)
        {
            return true;
        }

        try
        {
            await EnsureClassAsync(merchant, ct);
            return true;
        }
        catch (HttpRequestException e)
        {
            log.LogWarning(e, "Google Wallet class of merchant {Merchant} not updated", merchant.Id);
            return false;
        }
    }

    /// <summary>The object exists at Google as the pass is now (the « Ajouter à Google Wallet » link names it).</summary>
    public async Task<bool> EnsureObjectAsync(WalletPass pass, WalletMerchant merchant, CancellationToken ct)
    {
        await using (var query = store.QuerySession())
        {
            if (await query.LoadAsync<GoogleObjectState>(pass.Id, ct) is { Created: true } state && state.Hash == Hash(loyalty.LoyaltyObject(pass)))
            {
                return true;
            }
        }

        return await SyncAsync(pass, merchant, ct);
    }

    private async Task<GoogleObjectState> UpdateAsync(WalletPass pass, WalletMerchant merchant, GoogleObjectState state, CancellationToken ct)
    {
        var body = loyalty.LoyaltyObject(pass);
        var hash = Hash(body);
        if (state.Hash != hash)
        {
            var objectId = loyalty.ObjectId(pass.Id);
            var patched = state.Created && await SendAsync(HttpMethod.Patch, $"loyaltyObject/{objectId}", body, ct) != HttpStatusCode.NotFound;
            if (!patched)
            {
                await EnsureClassAsync(merchant, ct);
                var inserted = await SendAsync(HttpMethod.Post, "loyaltyObject", body, ct);
                if (inserted == HttpStatusCode.NotFound)
                {
                    throw new HttpRequestException($"Google Wallet has no class for {objectId}", null, inserted);
                }

                if (inserted == HttpStatusCode.Conflict)
                {
                    await SendAsync(HttpMethod.Patch, $"loyaltyObject/{objectId}", body, ct);
                }
            }

            WalletMetrics.GoogleUpdate(state.Created ? "patched" : "created");
            state = state with { Created = true, Hash = hash };
        }

        if (pass is { LastChangeId: { } change, LastChange: { } text } && state.MessagedChange != change)
        {
            await SendAsync(HttpMethod.Post, $"loyaltyObject/{loyalty.ObjectId(pass.Id)}/addMessage",
                GoogleLoyalty.Message(change, merchant.Name, text), ct);
            state = state with { MessagedChange = change };
        }

        return state;
    }

    private async Task<GoogleObjectState> ExpireAsync(WalletPass pass, GoogleObjectState state, CancellationToken ct)
    {
        if (state.Expired)
        {
            return state;
        }

        // Never created at Google (404 too): nothing shows the member there.
        if (state.Created)
        {
            await SendAsync(HttpMethod.Patch, $"loyaltyObject/{loyalty.ObjectId(pass.Id)}", GoogleLoyalty.Expired(), ct);
            WalletMetrics.GoogleUpdate("expired");
        }

        return state with { Expired = true, Hash = null };
    }

    private async Task EnsureClassAsync(WalletMerchant merchant, CancellationToken ct)
    {
        var body = loyalty.LoyaltyClass(merchant);
        var id = loyalty.ClassId(merchant.Id);
        var hash = Hash(body);
        if (_classes.TryGetValue(id, out var known) && known == hash)
        {
            return;
        }

        if (await SendAsync(HttpMethod.Patch, $"loyaltyClass/{id}", body, ct) == HttpStatusCode.NotFound
            && await SendAsync(HttpMethod.Post, "loyaltyClass", body, ct) == HttpStatusCode.Conflict)
        {
            await SendAsync(HttpMethod.Patch, $"loyaltyClass/{id}", body, ct); // another replica inserted it meanwhile
        }

        _classes[id] = hash;
    }

    /// <summary>Success, 404 and 409 are answers the caller acts on; anything else throws (retried later).</summary>
    private async Task<HttpStatusCode> SendAsync(HttpMethod method, string path, JsonObject body, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var request = new HttpRequestMessage(method, path)
            {
                Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await account.AccessTokenAsync(ct));
            using var response = await clients.CreateClient(HttpClientName).SendAsync(request, ct);
            if (response.StatusCode == HttpStatusCode.Unauthorized && attempt == 0)
            {
                account.ForgetAccessToken(); // revoked or expired early: one new token, once
                continue;
            }

            if (response.IsSuccessStatusCode || response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Conflict)
            {
                return response.StatusCode;
            }

            throw new HttpRequestException($"Google Wallet {method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}",
                null, response.StatusCode);
        }
    }

    private static string Hash(JsonObject body) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(body.ToJsonString())));
}
