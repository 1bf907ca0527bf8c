namespace Fidpass.Testing;

/// <summary>Waits for something asynchronous (a consumed message, a projection) to become true.</summary>
public static class Eventually
{
    public static async Task<T> Get<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan? within = null, string? what = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(15));
        var last = await probe();
        while (!done(last))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Not reached in time: {what ?? "condition"} (last value: {last})");
            }

            await Task.Delay(25);
            last = await probe();
        }

        return last;
    }

    public static Task True(Func<Task<bool>> probe, TimeSpan? within = null, string? what = null) =>
        Get(probe, ok => ok, within, what);
}
