using Federation.Contracts.V1;

namespace Federation.Testing;

/// <summary>Sample content for tests.</summary>
public static class Samples
{
    public static CallOutContent CallOut(string title = "Picket the Leeds branch") => new()
    {
        Title = title,
        Target = new Target { Name = "Bistro Co", ParentCompany = "Bistro Holdings" },
        DemandSummary = "Pay the £2,400 in stolen wages",
        Places = { new Place { City = "Leeds", Address = "1 High St" } },
        ActionTypes = { ActionType.Picket },
    };

    public static FightTerms Terms(string firstDemand = "Return the deposit in full") => new()
    {
        Demands = { firstDemand, "Repair the damp" },
        Strategy = "Demand letter, then pickets at the letting office",
        Facts = "Tenant moved out in September; deposit withheld without reason",
        EndConditions = "Deposit returned in full",
    };
}
