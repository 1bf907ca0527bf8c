namespace Fidpass.CashlogySimulator;

/// <summary>
/// The cash in a Cashlogy machine: coins and recyclable notes in the recyclers (they can be paid
/// out), other notes in the stacker (never paid out). Change is made with a bounded search over the
/// counts really available, not plain greedy (greedy fails on e.g. 60 c with 50/20/20/20).
/// </summary>
public sealed class CashMachine
{
    public static readonly long[] Coins = [1, 2, 5, 10, 20, 50, 100, 200];
    public static readonly long[] Notes = [500, 1000, 2000, 5000, 10000, 20000, 50000];
    public static readonly long[] RecyclableNotes = [500, 1000, 2000];

    private readonly Dictionary<long, int> _recyclers = [];
    private readonly Dictionary<long, int> _stacker = [];

    public CashMachine()
    {
        foreach (var coin in Coins)
        {
            _recyclers[coin] = 20;
        }

        foreach (var note in RecyclableNotes)
        {
            _recyclers[note] = 10;
        }

        foreach (var note in Notes.Where(n => !RecyclableNotes.Contains(n)))
        {
            _stacker[note] = 0;
        }
    }

    /// <summary>Count at or below which a recycler is reported near empty (state 12, WR:LEVEL).</summary>
    public int NearEmpty { get; set; } = 2;

    public int RecyclerCapacity { get; set; } = 200;

    public IReadOnlyDictionary<long, int> Recyclers => _recyclers;

    public IReadOnlyDictionary<long, int> Stacker => _stacker;

    public long RecyclersTotal => _recyclers.Sum(d => d.Key * d.Value);

    public long StackerTotal => _stacker.Sum(d => d.Key * d.Value);

    public static bool IsKnown(long value) => Coins.Contains(value) || Notes.Contains(value);

    public static bool IsRecyclable(long value) => Coins.Contains(value) || RecyclableNotes.Contains(value);

    public void SetCount(long value, int count)
    {
        if (IsRecyclable(value))
        {
            _recyclers[value] = count;
        }
        else if (IsKnown(value))
        {
            _stacker[value] = count;
        }
        else
        {
            throw new ArgumentException($"Unknown denomination {value}.", nameof(value));
        }
    }

    /// <summary>Takes one coin or note in; a full recycler sends notes to the stacker.</summary>
    public void Deposit(long value)
    {
        if (IsRecyclable(value) && _recyclers[value] < RecyclerCapacity)
        {
            _recyclers[value]++;
        }
        else
        {
            _stacker[value] = _stacker.GetValueOrDefault(value) + 1;
        }
    }

    /// <summary>
    /// Pays out <paramref name="amount"/> or, when the exact amount cannot be made, the largest amount
    /// below it that can (the real machine pays what it can and reports it). At most
    /// <paramref name="maxItems"/> pieces leave the machine (a jam stops the payout). Returns the amount paid.
    /// </summary>
    public long Dispense(long amount, bool coinsOnly = false, int maxItems = int.MaxValue)
    {
        if (amount <= 0)
        {
            return 0;
        }

        var available = _recyclers.Where(d => d.Value > 0 && (!coinsOnly || Coins.Contains(d.Key)))
            .OrderByDescending(d => d.Key).ToList();
        var plan = Plan(amount, available);
        long paid = 0;
        var items = 0;
        foreach (var (value, count) in plan.OrderByDescending(p => p.Key))
        {
            for (var i = 0; i < count && items < maxItems; i++, items++)
            {
                _recyclers[value]--;
                paid += value;
            }
        }

        return paid;
    }

    /// <summary>Fewest pieces for the largest reachable amount ≤ target (bounded knapsack by binary splitting).</summary>
    private static Dictionary<long, int> Plan(long target, List<KeyValuePair<long, int>> available)
    {
        var size = (int)Math.Min(target, available.Sum(d => d.Key * (long)d.Value));
        var pieces = new int[size + 1];
        Array.Fill(pieces, int.MaxValue);
        pieces[0] = 0;
        var choice = new List<(long Value, int Count)>[size + 1];
        choice[0] = [];
        foreach (var (value, count) in available)
        {
            var remaining = count;
            for (var chunk = 1; remaining > 0; chunk *= 2)
            {
                var take = Math.Min(chunk, remaining);
                remaining -= take;
                var step = (int)(value * take);
                for (var a = size; a >= step; a--)
                {
                    if (pieces[a - step] != int.MaxValue && pieces[a - step] + take < pieces[a])
                    {
                        pieces[a] = pieces[a - step] + take;
                        choice[a] = [.. choice[a - step], (value, take)];
                    }
                }
            }
        }

        for (var a = size; a >= 0; a--)
        {
            if (pieces[a] != int.MaxValue)
            {
                return choice[a].GroupBy(c => c.Value).ToDictionary(g => g.Key, g => g.Sum(c => c.Count));
            }
        }

        return [];
    }

    /// <summary>Notes moved inside the machine from a recycler to the stacker (<c>#U#…#1#</c>); the caller already took them out of the recycler.</summary>
    public void ToStacker(long value, int count) => _stacker[value] = _stacker.GetValueOrDefault(value) + count;

    public long EmptyStacker()
    {
        var total = StackerTotal;
        foreach (var key in _stacker.Keys.ToList())
        {
            _stacker[key] = 0;
        }

        return total;
    }

    /// <summary>State code per recycler (0 OK, 11 empty, 12 near empty, 21 full, 22 near full).</summary>
    public int StateOf(long value)
    {
        var count = _recyclers[value];
        return count == 0 ? 11 : count <= NearEmpty ? 12 : count >= RecyclerCapacity ? 21 : count >= RecyclerCapacity * 9 / 10 ? 22 : 0;
    }

    public bool AnyLevelWarning => _recyclers.Keys.Any(v => StateOf(v) != 0);

    public string RecyclerList() => Format(_recyclers);

    public string StackerList() => Format(_stacker);

    private static string Format(IReadOnlyDictionary<long, int> counts) =>
        string.Join(',', counts.Where(d => Coins.Contains(d.Key)).OrderBy(d => d.Key).Select(d => $"{d.Key}:{d.Value}")) + ";" +
        string.Join(',', counts.Where(d => Notes.Contains(d.Key)).OrderBy(d => d.Key).Select(d => $"{d.Key}:{d.Value}"));
}
