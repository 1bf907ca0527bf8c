namespace Fidpass.Wallet.Google;

/// <summary>
/// <c>Wallet:Google</c>. Without <see cref="ServiceAccountKeyPath"/> the service signs with an RSA key
/// it generates at start (written there when the path names a missing file, for the fake Google
/// Wallet to read): every flow runs offline, and Google refuses the key.
/// </summary>
public sealed class GoogleOptions
{
    /// <summary>The issuer id of the Google Wallet console (Google Pay &amp; Wallet Console → Google Wallet API): the prefix of every class and object id.</summary>
    public string IssuerId { get; init; } = "3388000000000000000";

    /// <summary>The service account's JSON key as Google Cloud exports it (<c>client_email</c>, <c>private_key_id</c>, <c>private_key</c>, <c>token_uri</c>).</summary>
    public string? ServiceAccountKeyPath { get; init; }

    /// <summary>The Wallet REST API, ending with <c>/walletobjects/v1/</c>.</summary>
    public string ApiBaseAddress { get; init; } = "https://walletobjects.googleapis.com/walletobjects/v1/";

    /// <summary>The OAuth token endpoint; the key file's <c>token_uri</c> (Google's) when not set.</summary>
    public string? TokenUri { get; init; }

    /// <summary>Pages allowed to show the save button (the JWT's <c>origins</c>); the web front end's address when empty.</summary>
    public string[] Origins { get; set; } = [];

    /// <summary>The gateway's public address: Google fetches the merchant logos from <c>{ImageBaseUrl}/api/v1/wallet/logos/{merchantId}.png</c> (HTTPS in production).</summary>
    public string ImageBaseUrl { get; init; } = "http://127.0.0.1:5080";
}
