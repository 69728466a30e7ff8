using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.ApiKeys;
using Crowd.Server.Features.Audit;
using Crowd.Server.Features.Board;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Features.RateFloors;
using Crowd.Server.Features.Recording;
using Crowd.Server.Features.Payouts;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Mail;
using Crowd.Server.Infrastructure.Scheduling;
using Crowd.Server.Infrastructure.Web;

var builder = WebApplication.CreateBuilder(args);
builder.AddCrowdWeb();
builder.Services.AddCrowdDatabase();
builder.Services.AddCrowdAccounts();
builder.Services.AddCrowdAudit();
builder.AddCrowdMail();
builder.Services.AddJobs();
builder.Services.AddCrowdRecording();
builder.AddCrowdPayouts();
builder.AddCrowdScheduler();

var app = builder.Build();
await app.UseCrowdDatabaseAsync();
await app.SeedCrowdAdminAsync();
app.UseCrowdWeb();
app.MapAccounts();
app.MapApiKeys();
app.MapRateFloors();
app.MapJobs();
app.MapBoard();
app.MapRecording();
app.MapPayouts();
app.MapRazorPages();

app.Run();

public partial class Program;
