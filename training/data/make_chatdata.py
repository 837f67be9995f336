#!/usr/bin/python3
"""Train-only, hand-written workplace-chat paraphrases (issue 14), appended to ``paraphrases/<label>.txt``.

Usage (after make_paraphrases.py, which rewrites those files; after make_robustness.py if that is used):
    /usr/bin/python3 training/data/make_chatdata.py            # append / replace the block
    /usr/bin/python3 training/data/make_chatdata.py --remove   # take the block out again

Why: the grammar in make_paraphrases.py gives volume but its frames are the authors' own; on chat
written by others the plain model misses phrasings nobody wrote (indirect requests, verb-less
questions, terse commands, greetings + sign-offs, abbreviations, synonyms such as procure/restock,
consignment/load, depot/DC/site). The lines below are written by hand, one by one, in the way
operations staff write in Teams/Slack. They are NOT templates filled mechanically.

Placeholders are catalog.json keys exactly as in intents/*.txt ({po}, {shipment}, {declaration},
{sku}, {warehouse} carry their own type word). No rejections and no negations: the runtime rules
own those classes, and the retrain of docs/notes/retrain.md showed such lines can hurt.
out_of_scope lines are literal only (no braces), like out_of_scope/*.txt; they are workplace
chat of other teams written in the same indirect/terse styles, so that a style ("could you check
whether ...") does not by itself signal one of our intents.

Like the paraphrase grammar these lines are TRAIN-ONLY: the pipeline never puts paraphrases/ lines
into val/test and intents/ (the split's source) is untouched, so the splits do not change.
make_paraphrases.Guard drops any line that equals, or can be filled into, an intents/ or
out_of_scope/ line.
"""
import os
import sys

import make_paraphrases as mp

BLOCK_START = "# --- workplace-chat block, hand-written, appended by ../make_chatdata.py; do not edit by hand ---"

LINES = {
    "procurement.create_order": """
could you raise a PO for {qty} {unit} of {product} from {supplier}
hey, can we get {qty} {product} from {supplier} by {date}?
need {qty} x {sku} from {supplier} asap pls
pls order {qty} {sku}, supplier {supplier}
buy {qty} {unit} of {product}
purchase {qty} {sku} from {supplier}
procure {qty} {unit} of {product} for {warehouse}
restock {product} - {qty} {unit} from {supplier}
reorder {sku}, same qty as last time
reorder {qty} {sku} from {supplier} please
we're running low on {product}, can you order {qty} {unit} from {supplier}?
I was wondering if you could put in an order for {qty} {product} with {supplier}
would you mind placing a PO with {supplier} for {qty} {unit} of {product}
morning! we need {qty} more {unit} of {product} at {warehouse} by {date}, can you sort a PO?
new PO pls: {qty} x {sku}, {supplier}, deliver to {warehouse}
PO request - {supplier} - {qty} {unit} {product} - need by {date}
{qty} {unit} {product} from {supplier} pls
{qty} {sku} from {supplier}, deliver {warehouse}
get {qty} {product} on order with {supplier}
can u raise a purchase order, {qty} ea {sku} from {supplier}
top up {product} at {warehouse}, {qty} {unit} from {supplier}
replenish {sku} at {warehouse} - {qty} units
let's order another {qty} {unit} of {product}, {supplier} is fine
put through an order to {supplier} for {qty} {sku} thx
hi team bot, please source {qty} {unit} of {product}, preferably from {supplier}
can I get a PO cut for {qty} {product} from {supplier}
kindly raise a requisition for {qty} {unit} of {product}
quick one - order {qty} {sku} from {supplier}, need it {date}
we need to buy {qty} {product}, can you order them from {supplier}?
order {qty} qty {sku} vendor {supplier}
place order: {sku} qty {qty} vendor {supplier} deliver to {warehouse}
could we order {qty} {unit} of {product} for delivery {date}
hey, {warehouse} is almost out of {product}, pls reorder {qty} {unit}
go ahead and buy {qty} {sku} from {supplier}
any chance you could order {qty} {product} from {supplier} today?
I'd like to purchase {qty} {unit} of {product} from {supplier}
stock up on {product} please, {qty} {unit} from {supplier}
order in {qty} {unit} of {product} for {warehouse}
we're short on {sku}, get {qty} more from {supplier}
hi, need to procure {qty} {product} for the line by {date}, {supplier} if possible
please create a purchase order with {supplier}: {qty} x {sku} at {money}
raise a PO to {supplier} for {product}, {qty} {unit}, budget {money}
can you get {supplier} to send us {qty} {unit} of {product}
order more {product} from {supplier} - {qty} {unit} should do
buy {qty} more {sku} for {warehouse}, thanks
reorder the {product} we always get from {supplier}, {qty} {unit}
pls procure {qty} x {sku} asap, {supplier} has them in stock
new order for {supplier}: {qty} {unit} of {product}, ship to {warehouse}
can someone order {qty} {product}? {supplier} is our usual vendor
afternoon - could you place a restock order for {sku}, {qty} units from {supplier}? cheers
""",
    "procurement.order_status": """
any update on {po}?
{po} status?
{po} - where are we?
where's {po} at
could you check whether {po} has shipped
I was wondering if {supplier} confirmed {po} yet
has {po} been dispatched?
when is {po} due in?
eta {po}?
{po} eta pls
status of the {supplier} order pls
any news on the {product} order from {supplier}?
did {supplier} ever confirm our PO for {product}?
hi, can you tell me when {po} will arrive at {warehouse}?
is {po} still on track for {date}?
is the {supplier} delivery late?
checking in on {po} - has it left the supplier yet?
what's happening with {po}
can you look up {po} for me
quick q: has {po} been approved yet?
has {supplier} acknowledged {po}
{po} delivered yet?
chasing {po}, any idea when it lands?
how's {po} looking
order status {po}
PO#10477 status?
can you pull up the status of our {supplier} order
has the {product} order from {supplier} arrived yet?
any eta on the {sku} we ordered from {supplier}?
is our order of {product} on its way?
morning, could you find out where the {supplier} PO is?
wondering whether {po} made it to {warehouse} yet
expected delivery date for {po}?
when are the {product} from {supplier} arriving
has {po} been received?
{po}?? anything from {supplier}
did the {sku} order go out from {supplier}
pls check {po} - the team at {warehouse} is asking
what's the latest on {po}
update on the {supplier} purchase order please
has our PO to {supplier} been confirmed and when will it ship
hey bot, {po} tracking?
is {po} approved or still pending
where are we with the {product} order
could you let me know the status of {po} when you get a sec
lookup {po}
""",
    "procurement.cancel_order": """
please cancel {po}
cancel {po} pls, no longer needed
could you cancel the {supplier} order for {product}
we need to kill {po}
scrap {po}, ordered it twice by mistake
pull {po}, {supplier} can't deliver in time
void {po}
withdraw {po} please
{po} - cancel it
cancel the PO for {qty} {sku}, wrong item
hi, can we cancel the order we placed with {supplier} {date}?
I'd like to cancel {po}
would you mind cancelling {po}? duplicate
drop the {product} order from {supplier}
stop {po}, we don't need the {product} anymore
call off the {supplier} order
terminate {po} please
cancel order {po} asap
could you please call off {po}, budget got cut
we have to cancel {po}, supplier quoted the wrong price
cancel the {sku} PO
undo the order for {qty} {unit} of {product} I placed {date}
retract {po} please
can u cancel {po}? thx
please cancel our {supplier} purchase order for {sku}
scrap the order for {product}
morning - {po} needs cancelling, plans changed
cancel my PO with {supplier}
delete {po}
{po} cancel pls
is it possible to cancel {po}? we ordered from the wrong vendor
cancel the pending {supplier} PO, we found stock at {warehouse}
pls cancel the order of {qty} {product}
need {po} cancelled today
let's cancel {po}
go ahead and cancel the {product} PO
I want to cancel the order for {sku} from {supplier}
kill the {supplier} order, thanks
cancel PO#10452
hey, cancel {po} and let me know once it's done
""",
    "procurement.list_orders": """
any POs waiting for me?
what's pending my approval
my open POs?
open orders for {supplier}?
show all open purchase orders
list POs due {date}
which orders are overdue
what orders do we have with {supplier}
could you list everything still open with {supplier}
I was wondering which POs are still awaiting approval
pls list my orders from last week
all open POs for {warehouse}
anything in my approval queue?
how many open orders do we have
overdue POs pls
list of pending orders
can I see all purchase orders over {money}
show me what I ordered {date}
what's outstanding with {supplier}
orders arriving this week?
which POs haven't been confirmed yet
give me a list of unapproved POs
open POs by supplier
can you pull up all orders for {product}
all orders for {sku} this month
which of my orders are late
show recent POs
hi, what purchase orders are still open?
what have we got on order at the moment
anything on order from {supplier}?
list POs created {date}
pending approvals?
what POs need sign-off
could you show me the orders awaiting delivery
summary of open orders pls
which purchase orders are due at {warehouse} next week
how many POs did we raise this month
list everything on order for {product}
any orders stuck in draft?
show me POs waiting on supplier confirmation
""",
    "procurement.approve_order": """
approve {po}
{po} approved, go ahead
pls approve {po}
could you approve the {supplier} PO
I'm happy with {po}, approve it
ok to approve {po}
greenlight {po}
sign off {po} please
sign off on the {supplier} order
approved - {po}
go ahead with {po}
{po} is fine, approve
you can approve {po}
let's approve the {product} order
authorise {po}
authorize the {supplier} purchase order
yes approve {po}
{po} looks good, approve it pls
would you approve {po} for me
approve the PO for {qty} {unit} of {product}
give {po} the green light
I approve {po}
please push {po} through approval
{po} - approved, thanks
can you mark {po} as approved
ok, approve the {money} order from {supplier}
hi, please approve {po} today, {supplier} is waiting
approve pls: {po}
confirm approval of {po}
good to go on {po}
{po} has my approval
sure, approve the {sku} order
approve {po} on my behalf
I'm signing off {po}
release {po} for ordering, it's approved
morning - can you approve {po} before {date}?
approve the purchase order from {supplier} for {product}
{po} ok'd
rubber-stamp {po}
""",
    "customs.file_declaration": """
file the customs declaration for {shipment}
could you file customs for {shipment}
pls lodge the entry for {shipment}
submit the declaration for the {port} consignment
we need customs filed for {shipment} by {date}
file the import entry for {shipment} from {country}
can you do the customs paperwork for {shipment}
start the customs filing for the container from {port}
lodge an import declaration for {shipment}, origin {country}
{shipment} needs declaring
declare {shipment} please
hi, can you get the customs entry in for {shipment}?
raise an import declaration for the {supplier} load
file customs on {shipment} asap
submit customs for {shipment}, value {money}
please prepare and file the declaration for {shipment}
I was wondering if you could file the entry for {shipment} today
do the import declaration for {shipment}
customs filing for {shipment} pls
create a customs declaration for the {product} shipment from {country}
file the export declaration for {shipment}
get {shipment} declared to customs
start clearance for {shipment}
kick off the customs entry for the consignment arriving at {port}
could you submit the customs docs for {shipment}
lodge customs for the {supplier} container
we've got a container landing at {port} {date}, please file the entry
new declaration for {shipment}, goods are {product}
file entry {shipment}
need an import declaration filed for {shipment}
pls declare the {product} consignment from {country}
file customs for the load from {supplier}, it's {shipment}
submit the entry for {shipment} to customs
morning, {shipment} arrived at {port}, please file customs
customs decl for {shipment} pls
go ahead and file {shipment}
open a declaration for {shipment}
""",
    "customs.declaration_status": """
has {shipment} cleared customs?
{shipment} status?
any update on {shipment}?
is {declaration} accepted yet
{declaration} status pls
where's {shipment}
could you check whether {shipment} is still held at customs
I was wondering if {declaration} has been released
is the consignment from {port} cleared yet
which shipments are stuck in customs
any containers on hold at {port}?
has customs released {shipment}
status of the entry for {shipment}
{shipment} cleared?
is {shipment} still in customs
what's holding up {shipment}
hi, any news on the {port} container?
did {declaration} go through
what's the status of our import declaration for {shipment}
check {declaration}
any shipments pending clearance?
is the {supplier} consignment through customs
could you look up {declaration}
when will {shipment} clear
was {declaration} rejected
{shipment} - released yet?
list shipments held by customs
morning, is {shipment} out of customs?
customs status for the load from {country}
has the container from {port} been released
any holds on {shipment}?
what's going on with {declaration}
is {declaration} still pending
chasing {shipment} - cleared or not?
track {shipment}
has the entry for {shipment} been accepted
""",
    "customs.classify_goods": """
hs code for {product}?
what's the HS code for {product}
could you classify {product} for customs
tariff code for {sku}?
which commodity code do {product} fall under
classify {sku}
I was wondering what tariff heading {product} would be
HTS code for {product} imported from {country}
what duty code applies to {product}
need the customs code for {product}
pls find the HS code for {sku}
what tariff classification would {product} have
hs for {product} pls
can you look up the commodity code for {product}
how would customs classify {product}
tariff number for {product}?
what's the 8-digit code for {product}
classification for {sku} please
which HS heading is {product} under
classify these: {product}
hi, what code do we use for {product} on import
could you check the tariff code for {sku} from {country}
HS code lookup: {product}
customs classification of {product}?
what HS chapter are {product} in
find me a commodity code for {product}
which tariff line covers {product}
what's the correct harmonized code for {product}
commodity code {product}?
""",
    "storage.receive_goods": """
the {supplier} delivery is here, book it in
{po} arrived, please receive it
receive {po} into {warehouse}
goods in: {qty} {unit} of {product} from {supplier}
can you book in {po}
{qty} {sku} just arrived at {warehouse}, receive pls
the truck from {supplier} is at the dock, book in {po}
we've received {po}, please post the goods receipt
GR for {po} pls
post goods receipt for {po}, {qty} {unit}
log the delivery from {supplier} at {warehouse}
{supplier} load arrived at {warehouse} - receive it
please receive {qty} {unit} of {product} against {po}
book the {product} into stock at {warehouse}
received {qty} x {sku} on {po}, put it in bin {bin}
could you check in the {supplier} delivery to {warehouse}
receipt {po} into bin {bin}
the {product} arrived {date}, please book them in
hi, {po} turned up this morning, can you receive it?
mark {po} as received
{po} delivered to {warehouse}, book it in pls
receive the consignment from {supplier}
put away {qty} {unit} of {product} from {po} into bin {bin}
goods receipt {po}
we got {qty} {unit} from {supplier} today, please receive
book in the pallets that came for {po}
receiving: {po}, {qty} {sku}, {warehouse}
delivery for {po} is in, can you record it
log {qty} {product} received at {warehouse}
{supplier} dropped off {po}, receive into {warehouse}
pls book in {qty} {sku} delivered {date}
confirm receipt of {po} at {warehouse}
receive {qty} {unit} against {po}, partial delivery
the container with {product} is unloaded at {warehouse}, book it in
check in {po} please
""",
    "storage.stock_level": """
stock {sku} {warehouse}
{sku} stock?
how many {product} do we have
qty on hand for {sku}?
how much {product} is left at {warehouse}
could you check stock of {product} at {warehouse}
I was wondering how many {sku} we have in {warehouse}
do we have any {product} in stock
{product} at {warehouse}?
stock level {sku} pls
what's on hand at {warehouse} for {sku}
inventory of {product}?
how many {unit} of {product} are at {warehouse}
any {sku} left?
is {sku} available at {warehouse}
availability of {product}?
what do we have in bin {bin}
how much {sku} is in the depot
on-hand qty {sku}
hi, can you tell me how much {product} we've got across all sites
{sku} - how many left in {warehouse}?
check inventory for {sku} pls
stock check {product}
are we out of {product}?
enough {product} at {warehouse} for an order of {qty}?
what's the stock position on {sku}
current inventory {product} {warehouse}
how many {sku} in bin {bin}
count of {product} at {warehouse}?
quick q, how many {product} are at the DC
units of {sku} in stock
do we still have {product} at {warehouse}
what's our stock of {sku} looking like
have we got {qty} {sku} available?
morning - stock levels for {product} pls
where do we have {sku} in stock
inventory levels {warehouse}
how many {unit} of {sku} are left
could you look up stock for {sku} in all warehouses
""",
    "storage.transfer_stock": """
move {qty} {sku} from {warehouse} to {warehouse}
transfer {qty} {unit} of {product} from {warehouse} to {warehouse}
could you move {qty} {product} over to {warehouse}
pls shift {qty} {unit} of {sku} to {warehouse}
relocate {product} from bin {bin} to bin {bin}
send {qty} {sku} from {warehouse} to {warehouse}
we need {qty} {product} moved to {warehouse} by {date}
stock transfer: {qty} x {sku}, {warehouse} -> {warehouse}
rebalance {sku}: move {qty} to {warehouse}
put {qty} {unit} of {product} into bin {bin}
I was wondering if you could transfer {qty} {sku} to {warehouse}
move all {product} out of bin {bin}
transfer {sku} to {warehouse}, {qty} units
can we ship {qty} {unit} of {product} from {warehouse} over to {warehouse}
hi, please move {qty} {sku} to the Dallas depot
reallocate {qty} {sku} to {warehouse}
move {qty} pallets of {product} to {warehouse}
internal transfer of {qty} {unit} {sku} to {warehouse} pls
shift stock of {product} from {warehouse} to {warehouse}
{qty} {sku} {warehouse} to {warehouse} pls
could you arrange a transfer of {product} to {warehouse}
move stock: {sku} x {qty} to bin {bin}
transfer {qty} {product} between sites, {warehouse} to {warehouse}
pls relocate {qty} {unit} of {sku} from bin {bin} to bin {bin}
{warehouse} needs {qty} {product}, send them from {warehouse}
move {qty} {sku} to {warehouse} asap, they've run out
can u transfer {qty} {unit} of {product} to {warehouse}
put {qty} {sku} on a truck to {warehouse}
bin move {sku} {bin} to {bin}
morning, please transfer {qty} {product} from {warehouse} to the DC
transfer request: {product}, {qty} {unit}, to {warehouse}
let's move {qty} {unit} of {sku} to {warehouse}
consolidate {sku} into bin {bin}
""",
    "automation.list_jobs": """
did my order go through?
any jobs running?
what's the bot doing right now
is the customs filing job still running
did the bot create {po}
status of my last request
any failed jobs?
could you check whether my request finished
I was wondering if the transfer job completed
what jobs are queued
show my recent jobs
job status?
is my PO job done yet
did the automation for {shipment} run
hi, did my request from this morning complete?
list running bots
what's in the job queue
any errors on my jobs today
did the robot finish the goods receipt for {po}
is my stock transfer job still in progress
what happened to my last job
show failed runs
any bots stuck?
has the declaration job for {shipment} finished
which of my requests are still processing
how long until my job is done
recent automation runs pls
did that go through
check my jobs
what did the bot do {date}
""",
    "assistant.help": """
what can you do
what can I ask you
how does this work
any tips on what to ask?
what are you able to help with
can you do customs stuff?
what commands do you understand
help pls
I'm new here, what can this bot do
could you explain what you can help me with
what kinds of requests can you handle
show me some examples
how do I use you
what are your features
is there a list of things I can ask
help me get started
what can this assistant do for purchasing
""",
    "assistant.greet": """
morning all
hey bot
hi there, anyone home?
good afternoon
hello hello
hiya bot
yo
morning!
hey, you there?
hi :)
good evening bot
howdy
greetings
hey hey
hello again
""",
    "assistant.thanks": """
thx
cheers
ta
thanks a lot
thank you so much
perfect, thanks
great, cheers mate
much appreciated
awesome, thx
many thanks
thanks, that's all
brilliant, thank you
ty
appreciate it
thanks for the help
""",
    "out_of_scope": """
could you check whether the printer on floor 2 is working
any update on my laptop repair ticket?
I was wondering if the canteen is open today
can you book the big meeting room for Thursday afternoon
any news on the team offsite?
pls reset my VPN password
status of my expense claim?
who is on call this weekend
could you remind me to call the accountant at 3
where's the holiday calendar
can u share the Q3 sales deck
when is the next all-hands
morning, is the wifi down for everyone?
hey, what time is the safety briefing
could you send me the org chart
has payroll gone out yet?
I was wondering if HR approved my leave
quick q: how do I submit a timesheet
what's the weather like in Rotterdam
any update on the new hire's onboarding?
can you set up a Teams call with the Dallas team
is the parking garage open on Saturday
pls raise an IT ticket, my headset is broken
could you check whether our customer paid their invoice
status of the sales quote for our client
chase the customer for payment please
send the monthly report to the finance team
can you translate this email to Spanish
who approved my travel request?
how do I change my bank details for payroll
any chance you can book me a taxi to the airport
what's the lunch menu today
book a desk for me tomorrow
can I get a new badge, mine stopped working
whats the fire drill schedule
tell me a joke
who won the game last night
how do I export a report to Excel
could you summarise this meeting for me
remind the team about the fire drill
""",
}

MORE = {
    "procurement.create_order": """
hey, quick favour - can you buy {qty} {unit} of {product}? {supplier} has the best price
the line is almost out of {product}, order {qty} {unit} pls
we'll need {qty} {sku} for next week's build, please get them ordered from {supplier}
order request: {product} x {qty}, vendor {supplier}, need date {date}
hi! could you reorder {product} for {warehouse}? {qty} {unit} is the usual
procurement pls: {qty} {unit} {product}, {supplier}
grab {qty} {sku} from {supplier} for us
book an order with {supplier} for {qty} {product}
we want to buy {qty} {unit} of {product} - can you set that up with {supplier}?
order {qty} {unit} {product} for delivery to {warehouse}, cost centre 4410
could we place a repeat order of {sku} with {supplier}
send {supplier} a PO for {qty} {sku}
draft a PO to {supplier}: {qty} {unit} of {product}
""",
    "procurement.order_status": """
has {supplier} shipped the {product} yet?
when do we get the {sku} from {supplier}?
are the {product} from {supplier} still coming {date}?
{supplier} order - confirmed?
any movement on {po}? {warehouse} keeps asking
is {po} delayed?
do we have a tracking number for {po}
did {po} leave {supplier}'s warehouse yet
when will the consignment for {po} get here
status check on {po} please
can you confirm {po} is still on schedule
hey, where's my order of {qty} {sku}?
has anything happened with {po} since {date}
""",
    "procurement.cancel_order": """
{supplier} can't deliver, please cancel our order with them
we ordered the wrong {product}, cancel {po}
no longer need the {sku} from {supplier}, cancel the PO
cancel the PO I raised {date} for {product}
please abort {po}
can you cancel {po} before {supplier} ships it?
cancel {qty} {unit} {product} order with {supplier}
{po} should be cancelled, project was scrapped
scratch {po}
hi - pls cancel our open PO with {supplier} for {sku}
we need to cancel the purchase of {qty} {product}
cancel the {money} order from {supplier}
rescind {po}
cancel that {supplier} PO from {date}
""",
    "procurement.list_orders": """
show everything we have on order with {supplier}
which orders are due {date}?
open PO list for {warehouse} pls
what's still to be delivered from {supplier}
list purchase orders for {sku}
anything waiting for approval from me today
orders awaiting sign-off?
could you show me this week's deliveries
which POs are still unconfirmed by suppliers
list late orders
how many POs are waiting on approval
what orders have we placed for {product} this quarter
POs above {money}?
show me all pending POs
which orders am I the approver for
what's on order for {warehouse} next week
give me all open orders with {supplier} and their due dates
list drafts
what did we order {date}
any open orders for {product}?
""",
    "procurement.approve_order": """
approve the order from {supplier}, it's within budget
ok go ahead, approve {po}
{po}: approve
happy to approve the {supplier} PO for {money}
{po} all good, approve pls
I've checked {po}, you can approve it now
approve the {qty} {unit} of {product} from {supplier}
sign-off {po} thx
yep, approve {po}
approve the pending PO for {sku}
we're fine with the price on {po}, approve
approve {po} and send it to {supplier}
OK'ing {po}
please authorise the {product} purchase order
ok, {po} is approved from my side
approve that {supplier} order
greenlight the PO for {product} from {supplier}
consider {po} approved
the {supplier} quote is fine - approve {po}
approve purchase order {po} pls
can you approve the {product} PO, I'm the budget holder
approve the PO for {sku} from {supplier}, qty {qty}
""",
    "customs.file_declaration": """
please submit the import entry for the {product} from {country}
file the entry for {shipment}, commercial invoice value {money}
we need a declaration lodged for {shipment} at {port}
can you raise the customs entry for {shipment}
file customs for the {supplier} delivery, it came in via {port}
declare the goods on {shipment} for import
get the paperwork filed for {shipment} please
hey, {shipment} lands at {port} {date} - file the declaration
prepare the import declaration for {shipment} and submit it
please lodge the export entry for {shipment} to {country}
could you handle the customs entry for {shipment}
""",
    "customs.declaration_status": """
what's the customs status of {shipment}
any update from customs on {declaration}?
is {shipment} released or still under inspection
has {declaration} cleared
did customs accept our entry for {shipment}
which containers are still waiting for clearance at {port}
is the {product} consignment from {country} through customs yet
what's happening with the entry for {shipment}
customs update on {shipment} pls
where does {declaration} stand
any declarations still pending?
shipments held at {port}?
has the load from {supplier} cleared yet
is there a customs hold on {shipment}
when will customs release {shipment}
status of import entry {declaration}
{declaration} accepted?
show me the held shipments
anything stuck at customs this week
could you check if {declaration} was accepted
""",
    "customs.classify_goods": """
which HS code should we use for {product} from {country}
what's the tariff code for {sku}
need an HS classification for {product}
commodity code for {product} please
could you find the right tariff code for {product}
what would {product} be classified as for import
pls classify {product} for the customs entry
what's the harmonised code for {sku}
tariff classification for {product} from {country}?
hs code {sku}?
how do we classify {product} for export to {country}
what HS code did we use for {product} last time
hey, can you look up the customs tariff for {product}
classify {product} under the HS nomenclature
what heading would {sku} come under
I need the tariff code for {product} before we file, can you find it?
what's the duty classification for {product}
could you work out the HS code for {sku} please
what customs code goes on the entry for {product}
which 6-digit HS code fits {product}
any idea what the commodity code for {product} is?
tariff heading for {product} shipped from {country}?
morning, what HS code are {product}?
""",
    "storage.receive_goods": """
{supplier}'s driver just unloaded at {warehouse}, please book in {po}
can you receipt the delivery for {po}
{qty} {unit} of {product} came in from {supplier}, book them in at {warehouse}
goods arrived for {po}, please receive
the {sku} we ordered from {supplier} is here, receive it into bin {bin}
receive {po} - everything arrived ok
pls record the goods receipt for the {supplier} delivery
{po} landed at {warehouse} this morning, book it into stock
post GR for {qty} {sku} from {po}
received the {product}, please book them in
book {qty} {unit} of {product} into {warehouse} against {po}
the {supplier} consignment is on the dock, receive it
inbound from {supplier} arrived, receive into {warehouse}
we've taken delivery of {po}, can you receive it into the system
receive the partial delivery for {po}: {qty} {unit}
goods in for {po} pls
""",
    "storage.stock_level": """
what's the on-hand for {sku} at {warehouse}
how much {product} have we got
stock of {product} across sites?
is there {product} in {warehouse}
{sku} on hand?
what's left of {product} at {warehouse}
how many {unit} of {sku} can we ship today
do we have {qty} {product} available
inventory check: {sku}
how many {product} in the DC
stock for {sku} at each site pls
what stock do we hold of {product}
quantity of {sku} in {warehouse}?
could you tell me the stock level of {product}
what's in stock at {warehouse}
any {product} left in bin {bin}
how much {sku} do we still have
is {product} in stock anywhere
stock {product}?
""",
    "storage.transfer_stock": """
please move {qty} {unit} of {product} from {warehouse} to {warehouse}
could you send {qty} {sku} over to {warehouse}
transfer {qty} {sku} to {warehouse}, they're out
we need to move the {product} from bin {bin} to bin {bin}
move {product} to {warehouse} - {qty} {unit}
hi, can you arrange a stock move of {qty} {sku} from {warehouse} to {warehouse}
shift {qty} {product} to {warehouse} for the weekend orders
relocate {qty} {unit} of {sku} to {warehouse}
transfer stock {sku} {qty} {warehouse} -> {warehouse}
move {qty} {unit} of {product} across to {warehouse} please
pls transfer the {product} in bin {bin} to {warehouse}
send {qty} {unit} of {product} to {warehouse} from {warehouse} asap
can we rebalance {product} between {warehouse} and {warehouse}
transfer {qty} ea {sku} to bin {bin}
move {qty} cases of {product} to {warehouse}
re-slot {sku} from bin {bin} to bin {bin}
stock move pls: {qty} {sku} to {warehouse}
""",
    "automation.list_jobs": """
is the bot still working on my order
did the PO for {supplier} actually get created
did my cancel request go through
what did the automation do with my request
any failed bot runs today?
my request from earlier - done?
how are my jobs doing
show me the bot's recent activity
what jobs did I start {date}
is anything still running for me
did the receipt for {po} get posted by the bot
which jobs failed this week
is the stock transfer still processing
status of my automation jobs
has the bot finished filing {shipment}
any of my requests still pending
""",
    "assistant.help": """
what sort of things can you help with?
not sure how to use this, any help?
hi, how do I ask you for stuff
what are you for
can you help with purchasing and customs?
what should I type
list your capabilities
are you able to check stock?
help - what can you do for warehouse staff
what's possible with this bot
give me a few example questions
how can you help me today
""",
    "assistant.greet": """
hi bot, good morning
good morning team bot
hey there assistant
hello bot!
morning, hope you're well
hi hi
hey, how's it going
hello, anyone there?
good morning :)
morning bot
""",
    "assistant.thanks": """
great thanks!
thanks heaps
that's perfect, thank you
cool, thx a lot
legend, thanks
nice one, cheers
thanks bot
much obliged
super, thank you
thanks, that helps
cheers for that
top, thanks
""",
    "out_of_scope": """
could you check whether the sales team sent the quote to the client
any update on the customer complaint from yesterday
I was wondering if finance closed the month yet
pls order pizza for the team meeting
can you check the train times to Dallas
what's the status of my IT ticket
who's the account manager for our biggest customer
any news on the office move?
has my bonus been paid
could you book a flight to Shanghai for next week
what's the exchange rate euro to dollar today
is the coffee machine fixed yet
pls update my email signature
could you find the minutes from Monday's meeting
how many vacation days do I have
when is the next performance review
can you send the customer their invoice
what's the share price today
how do I reset my password
is HR open on Friday
""",
}


def strip_block(lines):
    return lines[:lines.index(BLOCK_START)] if BLOCK_START in lines else lines


def read_raw(path):
    with open(path, encoding="utf-8") as f:
        return [l.rstrip("\n") for l in f]


def remove():
    for lab in mp.LABELS:
        path = os.path.join(mp.OUT, lab + ".txt")
        raw = read_raw(path)
        if BLOCK_START in raw:
            raw = strip_block(raw)
            while raw and not raw[-1].strip():
                raw.pop()
            with open(path, "w", encoding="utf-8") as f:
                f.write("\n".join(raw) + "\n")


def main():
    guard = mp.Guard()
    for lab in mp.LABELS:
        cand = [l.strip() for l in (LINES.get(lab, "") + MORE.get(lab, "")).splitlines() if l.strip()]
        if not cand:
            continue
        path = os.path.join(mp.OUT, lab + ".txt")
        raw = strip_block(read_raw(path))
        while raw and not raw[-1].strip():
            raw.pop()
        seen = {mp.key(l) for l in raw if l.strip() and not l.lstrip().startswith("#")}
        add, dropped = [], []
        for s in cand:
            k = mp.key(s)
            if k in seen or not guard.ok(s) or s.startswith("#") or (lab == "out_of_scope" and ("{" in s or "}" in s)):
                dropped.append(s)
                continue
            seen.add(k)
            add.append(s)
        block = [BLOCK_START, "# TRAIN-ONLY. %d hand-written workplace-chat lines (issue 14)." % len(add)]
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(raw + block + add) + "\n")
        print("%-30s +%3d lines, %d dropped (duplicate or guard)" % (lab, len(add), len(dropped)))
        for s in dropped:
            print("    dropped: %s" % s)


if __name__ == "__main__":
    remove() if "--remove" in sys.argv[1:] else main()
