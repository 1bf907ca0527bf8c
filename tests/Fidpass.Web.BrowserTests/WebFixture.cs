using System.Net;
using System.Net.Sockets;
using Fidpass.CashlogyEdge;
using Fidpass.FakeGoogleWallet;
using Fidpass.FakeStripe;
using Fidpass.Gateway;
using Fidpass.Gateway.IntegrationTests;
using Fidpass.Loyalty;
using Fidpass.StripeTerminal;
using Fidpass.Testing;
using Fidpass.Wallet;
using Microsoft.AspNetCore.Builder;
using Microsoft.Playwright;
using ConnectorSimulator = Fidpass.CashlogySimulator.CashlogySimulator;

namespace Fidpass.Web.BrowserTests;

/// <summary>The web space on a real Kestrel port of <c>localhost</c> (a secure context: camera, clipboard, Secure cookies).</summary>
public sealed class WebHost : ServiceHost<WebApp>
{
    public Uri Start(int port)
    {
        UseKestrel(port);
        StartServer();
        return new Uri($"http://localhost:{port}");
    }
}

/// <summary>
/// Every service behind the real gateway (the gateway integration tests' fixture), the fake Stripe
/// and the CashlogyConnector simulator, the web space, and Debian's Chromium driven by Playwright.
/// </summary>
public sealed class WebFixture : GatewayFixture, IAsyncLifetime
{
    private readonly int _webPort = FreePort();
    private WebApplication _fakeStripe = null!;
    private WebApplication _fakeGoogleWallet = null!;
    private readonly string _googleKeyFolder = Directory.CreateTempSubdirectory("fidpass-web-google-").FullName;
    private WebHost _web = null!;
    private IPlaywright _playwright = null!;

    public Uri Web { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;
    public ConnectorSimulator Cash { get; private set; } = null!;
    public HttpClient FakeStripe { get; private set; } = null!;

    /// <summary>The wallet's service-account key (Google's JSON key format): the wallet writes it at start, the fake Google Wallet trusts it.</summary>
    public string GoogleServiceAccountPath => Path.Combine(_googleKeyFolder, "service-account.json");

    public static string ScreenshotFolder { get; } = FindScreenshotFolder();

    public new async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        _web = new WebHost();
        _web.With("Gateway:Address", Gateway.Address.ToString())
            .With("Gateway:PublicAddress", Gateway.Address.ToString());
        Web = _web.Start(_webPort);
        _playwright = await Playwright.CreateAsync();
        Browser = await LaunchAsync();
    }

    /// <summary>A Chromium of its own, e.g. with a fake camera fed by a .y4m video.</summary>
    public Task<IBrowser> LaunchAsync(params string[] extraArgs) => _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
    {
        ExecutablePath = "/usr/bin/chromium",
        Headless = true,
        // Without the background-networking flags Chromium keeps calling Google's hosts, which this network refuses.
        Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", .. extraArgs],
    });

    protected override async Task StartServicesAsync()
    {
        _fakeStripe = FakeStripeServer.Build(["--urls", "http://127.0.0.1:0"]);
        await _fakeStripe.StartAsync();
        FakeStripe = new HttpClient { BaseAddress = new Uri(_fakeStripe.Urls.First()) };
        Cash = await ConnectorSimulator.StartAsync();

        await base.StartServicesAsync();
        await AddServiceAsync<LoyaltyApi>("loyalty");
        await AddServiceAsync<StripeTerminalApi>("stripe-terminal", host => host
            .With("Stripe:ApiBase", FakeStripe.BaseAddress!.ToString().TrimEnd('/')));
        // No Apple credentials: the wallet signs with its generated test chain (no phone registers here, nothing is pushed).
        // No Google credentials either: it writes a test service-account key that the fake Google Wallet trusts, as under ./fidpass up.
        _fakeGoogleWallet = FakeGoogleWalletServer.Build(["--urls", "http://127.0.0.1:0", "--FakeGoogleWallet:ServiceAccountKeyPath", GoogleServiceAccountPath]);
        await _fakeGoogleWallet.StartAsync();
        var google = _fakeGoogleWallet.Urls.First().TrimEnd('/');
        await AddServiceAsync<WalletApi>("wallet", host => host
            .With("Wallet:Google:ServiceAccountKeyPath", GoogleServiceAccountPath)
            .With("Wallet:Google:TokenUri", google + "/token")
            .With("Wallet:Google:ApiBaseAddress", google + "/walletobjects/v1/")
            .With("Wallet:Google:Origins:0", $"http://localhost:{_webPort}"));
        await AddServiceAsync<CashlogyEdgeApi>("cashlogy-edge", host => host
            .AllowingLoopbackCashMachines()
            .With("Cashlogy:HealthPollInterval", "00:00:00.200")
            .With("Cashlogy:ReconnectDelay", "00:00:00.200"));
    }

    // The public enrolment page calls the gateway from the browser (so the per-IP limit sees each customer).
    protected override void ConfigureGateway(KestrelHost<GatewayApp> gateway) =>
        gateway.With("Cors:AllowedOrigins:1", $"http://localhost:{_webPort}");

    /// <summary>A new browser context signed in as a new merchant (through the sign-in link).</summary>
    public async Task<(CreatedMerchant Merchant, IPage Page)> SignedInAsync(IBrowser? browser = null, CreatedMerchant? existing = null, string screen = Desktop)
    {
        var merchant = existing ?? await CreateMerchantAsync();
        var context = await (browser ?? Browser).NewContextAsync(ContextOptions(screen));
        var page = await context.NewPageAsync();
        await page.GotoAsync(SignInLink(merchant));
        return (merchant, page);
    }

    /// <summary>The two screens every page is tried on: a phone held upright (390×844) and a laptop.</summary>
    public const string Phone = "phone";
    public const string Desktop = "desktop";

    public static BrowserNewContextOptions ContextOptions(string screen) => new()
    {
        Locale = "fr-FR",
        ViewportSize = screen == Phone ? new ViewportSize { Width = 390, Height = 844 } : new ViewportSize { Width = 1280, Height = 900 },
        IsMobile = screen == Phone,
        HasTouch = screen == Phone,
    };

    /// <summary>Ends every web session of the merchant, as « Se déconnecter partout » or a regenerated link does.</summary>
    public async Task EndSessionsAsync(CreatedMerchant merchant)
    {
        using var end = new HttpRequestMessage(HttpMethod.Delete, $"/api/v1/merchants/{merchant.Slug}/sessions");
        end.Headers.Add("X-Dashboard-Token", merchant.DashboardToken);
        (await Client.SendAsync(end)).EnsureSuccessStatusCode();
    }

    public string SignInLink(CreatedMerchant merchant) => $"{Web}?token={Uri.EscapeDataString(merchant.DashboardToken)}";

    public static async Task ScreenshotAsync(IPage page, string name) =>
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotFolder, name + ".png"), FullPage = true });

    public override async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright.Dispose();
        await _web.DisposeAsync();
        await base.DisposeAsync();
        await _fakeStripe.DisposeAsync();
        await _fakeGoogleWallet.DisposeAsync();
        Directory.Delete(_googleKeyFolder, recursive: true);
        await Cash.DisposeAsync();
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>TestResults/screenshots next to this project (git-ignored).</summary>
    private static string FindScreenshotFolder()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Fidpass.Web.BrowserTests.csproj")))
        {
            dir = dir.Parent;
        }

        var folder = Path.Combine(dir?.FullName ?? AppContext.BaseDirectory, "TestResults", "screenshots");
        Directory.CreateDirectory(folder);
        return folder;
    }
}

[CollectionDefinition(Name)]
public sealed class WebCollection : ICollectionFixture<WebFixture>
{
    public const string Name = "web";
}
