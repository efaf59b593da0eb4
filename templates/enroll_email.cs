<?cs include!"macros.cs" ?><?cs include!"pages_macros.cs" ?>
<?cs def:content() ?>
<p class="back"><a href="/">&larr; My tokens</a></p>
<div class="page-head">
  <h1>Add a code by e-mail</h1>
  <p class="lead">Each time you sign in, a code is sent to your mail address.</p>
</div>
<p class="notice warn" id="weaker">This is the weakest kind of token: anyone who can read
your mail can sign in as you, and mail can be slow. Prefer an authenticator app
when you can.</p>

<?cs if:Enroll.unavailable == 1 ?>
<section class="card">
  <p class="notice warn" id="email-unavailable">E-mail tokens are unavailable: this portal
  cannot send mail. Please use an authenticator app.</p>
</section>
<?cs elif:Enroll.no_address == 1 ?>
<section class="card">
  <p class="notice warn" id="email-unavailable">The directory holds no usable mail address
  for you, so an e-mail token cannot be added. Ask the helpdesk.</p>
</section>
<?cs elif:Enroll.full == 1 || Enroll.limit_message ?>
<section class="card">
  <p class="notice warn" id="max-tokens"><?cs if:Enroll.limit_message ?><?cs var:Enroll.limit_message ?><?cs
  else ?>You have the most tokens allowed here (<?cs var:Enroll.max_tokens ?>). Delete one
  you no longer use first.<?cs /if ?></p>
</section>
<?cs else ?>
<section class="card">
  <form method="post" action="/enroll/email">
    <?cs call:csrf() ?>
    <div class="field">
      <label for="email">Codes go to</label>
      <input id="email" type="email" value="<?cs var:Enroll.email ?>" readonly aria-readonly="true">
      <p class="hint">The address the directory holds for you; it cannot be changed here.</p>
    </div>
    <div class="field<?cs if:Errors.description ?> has-error<?cs /if ?>">
      <label for="description">Description <span class="muted">(optional)</span></label>
      <input id="description" name="description" type="text" maxlength="128"
        value="<?cs var:Query.description ?>"<?cs if:Errors.description ?> aria-invalid="true" aria-describedby="description-error"<?cs /if ?>>
      <?cs call:field_error("description") ?>
    </div>
    <?cs call:choice_select("digits", "Code length") ?>
    <div class="buttons">
      <button type="submit" class="primary">Send me a code</button>
      <a class="button secondary" href="/">Cancel</a>
    </div>
  </form>
</section>
<?cs /if ?>
<?cs /def ?>
<?cs include!"layout.cs" ?>
