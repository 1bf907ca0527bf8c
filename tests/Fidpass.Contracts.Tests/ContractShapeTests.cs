using System.Reflection;
using System.Text.Json;
using Fidpass.Contracts.Devices;
using Fidpass.Contracts.Loyalty;
using Fidpass.Contracts.Merchants;
using Fidpass.Contracts.Payments;
using MassTransit.Serialization;

namespace Fidpass.Contracts.Tests;

/// <summary>
/// Messages are wire format between services that deploy separately: a renamed field, a moved
/// namespace or a changed enum silently breaks a consumer. Each contract's JSON, as MassTransit
/// writes it, is compared with a committed golden file.
/// </summary>
public sealed class ContractShapeTests
{
    private static readonly JsonSerializerOptions Indented = new(SystemTextJsonMessageSerializer.Options) { WriteIndented = true };
    private static readonly DateTimeOffset At = new(2026, 11, 23, 9, 30, 0, TimeSpan.Zero);
    private static readonly Guid Merchant = Guid.Parse("8d1f2a4e-0c57-4a0e-9a51-3b1f5e9b2c11");
    private static readonly Guid Member = Guid.Parse("5b0e7c1d-2f4a-4b8e-8d3c-7a9e1f2b3c4d");
    private static readonly Guid Operation = Guid.Parse("0f6e5d4c-3b2a-4190-8877-665544332211");

    public static TheoryData<object> Samples() =>
    [
        new PaymentCollected("pi_3Q0abc", Merchant, 1290, "eur", PaymentMethod.Card, "tmr_FDOt2wlRZEdpd7", Member, "T12-0042", At),
        new PaymentRefunded("re_3Q0xyz", "pi_3Q0abc", Merchant, 500, "eur", At),
        new MemberEnrolled(Member, Merchant, At) { FirstName = "Camille" },
        new MemberErased(Member, Merchant, At),
        new PointsCredited(Operation, Member, Merchant, 12, 112, PointsSource.Payment, "pi_3Q0abc", At),
        new PointsDebited(Operation, Member, Merchant, 50, 62, "Café offert", At),
        new PointsReversed(Operation, Operation, Member, Merchant, 5, 57, "re_3Q0xyz", At),
        new RewardRedeemed(Operation, Member, Merchant, "Café offert", 50, 7, At),
        new PointsExpired(Operation, Member, Merchant, 30, 12, PointsExpiryRule.Age, new DateOnly(2026, 11, 23), At),
        new CheckMember(Merchant, Member),
        new MemberChecked(Merchant, Member, MemberStanding.Erased),
        new MemberCardLinkRequested(Operation, Merchant, Member, "ada.lovelace@example.fr", At),
        new RewardOfferChanged(Operation, Merchant, "Café offert", 50, false, At),
        new MerchantRegistered(Merchant, "cafe-dupont", "Café Dupont", "contact@cafe-dupont.fr", At),
        new MerchantBrandingChanged(Merchant, "cafe-dupont", "Café Dupont", "#3B2A1E", "#FFFFFF", "iVBORw0KGgo=", At),
        new CredentialRevoked(Operation, Merchant, CredentialKind.IntegrationKey, At),
        new ReaderStatusChanged("tmr_FDOt2wlRZEdpd7", Merchant, "offline", At),
        new CashMachineStatusChanged(Operation, Merchant, "error", "ER:BUSY", At),
    ];

    [Theory]
    [MemberData(nameof(Samples))]
    public void Json_shape_matches_the_committed_golden_file(object message)
    {
        var type = message.GetType();
        var json = JsonSerializer.Serialize(message, type, Indented);
        var goldenPath = Path.Combine(AppContext.BaseDirectory, "Golden", $"{type.FullName}.json");

        Assert.True(File.Exists(goldenPath), $"No golden file for {type.FullName}; add Golden/{type.FullName}.json with:\n{json}");
        Assert.Equal(File.ReadAllText(goldenPath).ReplaceLineEndings().Trim(), json.ReplaceLineEndings().Trim());
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void Golden_json_still_deserializes_to_the_same_message(object message)
    {
        var type = message.GetType();
        var golden = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", $"{type.FullName}.json"));

        var read = JsonSerializer.Deserialize(golden, type, SystemTextJsonMessageSerializer.Options);

        Assert.Equal(message, read);
    }

    [Fact]
    public void Every_contract_has_a_sample_and_lives_in_a_service_namespace()
    {
        var contracts = typeof(PaymentCollected).Assembly.GetExportedTypes().Where(t => !t.IsEnum).ToList();
        var sampled = Samples().Select(row => row.Data.GetType()).ToHashSet();

        Assert.All(contracts, t => Assert.Contains(t, sampled));
        Assert.All(contracts, t => Assert.Matches(@"^Fidpass\.Contracts\.[A-Z][A-Za-z]+$", t.Namespace));
    }

    [Fact]
    public void Contracts_are_data_only_records()
    {
        foreach (var type in typeof(PaymentCollected).Assembly.GetExportedTypes().Where(t => !t.IsEnum))
        {
            Assert.True(type.IsSealed, $"{type} must be sealed");
            Assert.NotNull(type.GetMethod("<Clone>$"));
            var ownMethods = type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
                .Where(m => !m.IsSpecialName && !m.Name.StartsWith('<')
                    && m.Name is not ("ToString" or "Equals" or "GetHashCode" or "Deconstruct" or "PrintMembers"));
            Assert.Empty(ownMethods);
        }
    }
}
