public import Directory

/// The console's languages: Japanese first (the ward's working language), English by a switch
/// that a cookie remembers.
public enum ConsoleLanguage: String, Sendable, CaseIterable {
    case ja, en
}

/// Every label the pages show, in both languages. Templates name them `{{t.key}}`; enum values
/// are looked up as `prefix_value` (`state_reported`). A unit test checks that each key has
/// both texts and that every key a template uses exists.
public enum Labels {
    public static func text(_ key: String, _ language: ConsoleLanguage) -> String {
        guard let entry = table[key] else { return key }
        return language == .ja ? entry.ja : entry.en
    }

    /// The table for one language, as templates see it.
    public static func all(_ language: ConsoleLanguage) -> [String: String] {
        table.mapValues { language == .ja ? $0.ja : $0.en }
    }

    public static let table: [String: (ja: String, en: String)] = [
        // Frame
        "appName": ("情報セキュリティ管理コンソール", "Information Security Console"),
        "skipToContent": ("本文へ移動", "Skip to content"),
        "signedInAs": ("ログイン中", "Signed in as"),
        "actingAs": ("担当", "Acting as"),
        "switchRole": ("役割を切り替える", "Switch role"),
        "signOut": ("ログアウト", "Sign out"),
        "language": ("表示言語", "Language"),
        "navQueue": ("未確認キュー", "Queue"),
        "navCases": ("事案一覧", "Cases"),
        "navNewReport": ("インシデント報告", "Report an incident"),
        "navReports": ("自課の報告", "Our reports"),
        "navDecisions": ("決裁待ち", "Decisions"),
        "navSignIns": ("ログイン記録", "Sign-in log"),
        "navOperations": ("運用状況", "Operations"),
        "notFoundTitle": ("見つかりません", "Not found"),
        "notFoundText": ("このページは存在しないか、表示する権限がありません。", "This page does not exist or is not yours to see."),
        "csrfTitle": ("要求を受け付けられません", "Request refused"),
        "csrfText": ("フォームの有効期限が切れたか、正しくない送信です。ページを読み込み直してください。", "The form expired or was not sent from this console. Reload the page and try again."),
        "errorTitle": ("エラー", "Error"),
        "serviceDown": ("サービスに接続できません。しばらくしてから再度お試しください。", "A service did not answer. Try again in a moment."),
        "forbiddenText": ("この操作を行う権限がありません。", "You may not do this."),
        "none": ("なし", "none"),
        "yes": ("はい", "yes"),
        "no": ("いいえ", "no"),
        "unknown": ("不明", "unknown"),
        "reason": ("理由", "Reason"),
        "submit": ("送信", "Submit"),
        "next": ("次へ", "Next"),
        "filter": ("絞り込む", "Filter"),
        "all": ("すべて", "All"),

        // Sign-in and enrolment
        "signInTitle": ("ログイン", "Sign in"),
        "personID": ("職員ID", "Person id"),
        "password": ("パスワード", "Password"),
        "passwordAgain": ("パスワード (確認)", "Password (again)"),
        "totpCode": ("認証コード (6桁)", "Authentication code (6 digits)"),
        "totpCodeHint": ("全庁的な役割の方は認証アプリのコードを入力してください。", "People with ward-wide roles enter the code from their authenticator app."),
        "signInButton": ("ログイン", "Sign in"),
        "wrongCredentials": ("職員ID、パスワードまたは認証コードが正しくありません。", "The person id, password or code is not right."),
        "accountLocked": ("アカウントはロックされています。15分後に再度お試しください。", "The account is locked. Try again in 15 minutes."),
        "enrolTitle": ("利用登録", "Enrolment"),
        "enrolIntro": ("パスワードを設定してください (12文字以上)。", "Choose a password (at least 12 characters)."),
        "enrolTOTP": ("全庁的な役割のため、二要素認証が必要です。認証アプリに次の鍵を登録し、表示されたコードを入力してください。", "Your ward-wide role needs a second factor. Add this key to your authenticator app and enter the code it shows."),
        "totpKey": ("鍵", "Key"),
        "enrolButton": ("登録する", "Enrol"),
        "invitationInvalid": ("この登録リンクは無効か、使用済みか、期限切れです。", "This enrolment link is invalid, used or expired."),
        "pw_tooShort": ("パスワードは12文字以上にしてください。", "The password needs at least 12 characters."),
        "pw_tooLong": ("パスワードが長すぎます (72バイトまで)。", "The password is too long (72 bytes at most)."),
        "pw_mismatch": ("確認用パスワードが一致しません。", "The two passwords differ."),
        "pw_sameAsID": ("職員IDと同じパスワードは使えません。", "The password may not be your id."),
        "codeWrong": ("認証コードが正しくありません。", "The code is not right."),
        "notice_enrolled": ("登録しました。ログインしてください。", "Enrolled. Sign in now."),
        "notice_signedOut": ("ログアウトしました。", "Signed out."),
        "notice_expired": ("一定時間操作がなかったため、ログアウトしました。", "Your session ended after 30 minutes without activity."),
        "notice_done": ("処理しました。", "Done."),
        "notice_bulkPartial": ("処理しましたが、状態が合わず処理できなかった事案があります。一覧で確認してください。", "Done, except for cases whose state did not allow it; check the list."),
        "notice_reported": ("報告を受け付けました。", "The report was accepted."),
        "notice_roleSwitched": ("役割を切り替えました。", "Role switched."),

        // Queue and case list
        "queueTitle": ("未確認の事案", "Cases not yet acknowledged"),
        "queueEmpty": ("未確認の事案はありません。", "No case waits for acknowledgement."),
        "queueLive": ("自動更新中", "Refreshing by itself"),
        "casesTitle": ("事案一覧", "Cases"),
        "caseNumber": ("事案番号", "Case"),
        "title": ("件名", "Title"),
        "severity": ("重大度", "Severity"),
        "state": ("状態", "State"),
        "section": ("課", "Section"),
        "department": ("部", "Department"),
        "category": ("種別", "Category"),
        "assignee": ("担当者", "Assignee"),
        "periodFrom": ("開始日 (以降)", "Opened from"),
        "periodTo": ("終了日 (より前)", "Opened before"),
        "search": ("件名検索", "Title search"),
        "age": ("経過", "Age"),
        "escalation": ("エスカレーション", "Escalation"),
        "escalationLevel": ("到達段階", "Level reached"),
        "nextEscalation": ("次の段階まで", "Next level in"),
        "acknowledge": ("確認する", "Acknowledge"),
        "bulkAcknowledge": ("選択した事案を確認", "Acknowledge selected"),
        "bulkAssign": ("選択した事案を割り当て", "Assign selected"),
        "noCases": ("該当する事案はありません。", "No case matches."),
        "select": ("選択", "Select"),
        "reportCountTitle": ("この事案にまとめられた報告の件数", "Reports gathered in this case"),

        // Case page
        "caseTitle": ("事案", "Case"),
        "severityRule": ("判定規則", "Deciding rule"),
        "timestamps": ("日時", "Time stamps"),
        "occurredAt": ("発生日時", "Occurred"),
        "detectedAt": ("検知日時", "Detected"),
        "knownAt": ("認知日時", "Known"),
        "reportedAt": ("報告日時", "Reported"),
        "recordedAt": ("記録日時", "Recorded"),
        "openedAt": ("起票日時", "Opened"),
        "acknowledgedAt": ("確認日時", "Acknowledged"),
        "firstSeenAt": ("最初の報告の記録日時", "First report recorded"),
        "lastSeenAt": ("最新の報告の記録日時", "Latest report recorded"),

        // A case's reports, merge and split (issue #16)
        "caseReports": ("この事案の報告", "Reports of this case"),
        "reportCount": ("報告件数", "Reports"),
        "reportsPartial": ("最初の報告のみ表示しています (表示件数 / 全件数)。続きは isms incidents show --reports で確認できます。", "Only the first reports are shown (shown / total); isms incidents show --reports lists more."),
        "reportSource": ("受付番号", "Intake id"),
        "reportRule": ("まとめた規則", "Joined by"),
        "joinedAt": ("追加日時", "Joined"),
        "reportRule_opened": ("最初の報告", "opened the case"),
        "reportRule_merge": ("統合で移入", "came with a merged case"),
        "reportRule_split": ("他の事案から分離", "split out of another case"),
        "splitOut": ("別の事案に分離", "Split out"),
        "splitReason": ("分離の理由", "Why it is another incident"),
        "mergeTitle": ("他の事案に統合", "Merge into another case"),
        "mergeInto": ("統合先の事案番号", "Merge this case into"),
        "mergeReason": ("統合の理由", "Why the two are one incident"),
        "merge": ("統合する", "Merge"),
        "mergeHint": ("この事案の報告と法定報告は統合先に移り、この事案は統合済みとなります。", "This case's reports and obligations move to that case; this case becomes merged."),
        "mergedBanner": ("この事案は次の事案に統合されました:", "This case was merged into"),
        "mergeTargetUnknown": ("統合先の事案が見つかりません。事案番号を確認してください。", "No such case to merge into; check the case number."),
        "splitReportUnknown": ("この報告はもうこの事案にありません。ページを読み込み直してください。", "This report is no longer in this case; reload the page."),
        "notice_merged": ("事案を統合しました。統合先の事案を表示しています。", "The cases were merged; this is the case that holds them now."),
        "notice_split": ("報告を新しい事案に分離しました。新しい事案を表示しています。", "The report was split out; this is its new case."),
        "description": ("内容 (マイナンバーはマスク済み)", "Description (My Numbers masked)"),
        "assets": ("影響を受けた情報資産", "Affected assets"),
        "classification": ("格付け (機密性/完全性/可用性)", "Classification (C/I/A)"),
        "affectedPersons": ("影響を受けた人数", "Persons affected"),
        "obligations": ("法定報告", "Statutory obligations"),
        "dueAt": ("期限", "Due"),
        "daysLeft": ("残り日数", "Days left"),
        "overdue": ("期限超過", "overdue"),
        "openingDaysLeft": ("残り開庁日", "opening days left"),
        "filedAt": ("提出日時", "Filed"),
        "fileObligation": ("提出を記録", "Record filing"),
        "filingReference": ("提出番号・受付番号", "Filing reference"),
        "verdicts": ("判定項目", "Verdicts"),
        "updateVerdicts": ("判定を更新", "Update verdicts"),
        "restrictions": ("利用制限", "Use restrictions"),
        "orderRestriction": ("利用制限を指示", "Order a restriction"),
        "targetKind": ("対象の種類", "Target kind"),
        "target": ("対象", "Target"),
        "approve": ("承認", "Approve"),
        "reject": ("却下", "Reject"),
        "lift": ("解除", "Lift"),
        "assignees": ("担当者", "Assignees"),
        "assign": ("割り当てる", "Assign"),
        "comments": ("コメント", "Comments"),
        "addComment": ("コメントを追加", "Add comment"),
        "qualification": ("判定", "Qualification"),
        "qualify": ("判定する", "Qualify"),
        "qual_incident": ("インシデントである", "An incident"),
        "qual_not-incident": ("インシデントではない (理由必須)", "Not an incident (reason required)"),
        "transitions": ("状態の変更", "Change state"),
        "history": ("履歴 (ハッシュチェーン)", "History (hash chain)"),
        "historyVerified": ("✓ 改ざんなし (検証済み)", "✓ Intact (verified)"),
        "historyBroken": ("✗ 検証に失敗しました", "✗ Verification failed"),
        "notifications": ("送信された通知", "Notifications sent"),
        "recipient": ("宛先", "Recipient"),
        "channel": ("経路", "Channel"),
        "sentAt": ("送信日時", "Sent"),
        "showOriginal": ("原本を表示 (記録されます)", "Show the original (logged)"),
        "original": ("原本", "Original"),
        "source": ("起点", "Source"),
        "actor": ("実施者", "By"),
        "at": ("日時", "When"),

        // Reports
        "newReportTitle": ("インシデント報告", "Report an incident"),
        "reportIntro": ("分かる範囲で記入してください。不明な項目は「不明」を選べます。", "Fill in what you know; choose \"unknown\" where you do not."),
        "reporterName": ("報告者氏名", "Your name"),
        "reporterContact": ("連絡先 (内線・メール)", "Contact (extension or mail)"),
        "asset": ("情報資産", "Asset"),
        "assetName": ("名称", "Name"),
        "assetID": ("資産番号", "Asset id"),
        "confidentiality": ("機密性", "Confidentiality"),
        "integrity": ("完全性", "Integrity"),
        "availability": ("可用性", "Availability"),
        "questions": ("確認事項", "Questions"),
        "affectedPersonsHint": ("分からない場合は空欄", "Leave empty when unknown"),
        "submitReport": ("報告する", "Submit report"),
        "reportProblems": ("報告を受け付けられませんでした。各項目の指摘を確認してください。", "The report was not accepted; see the notes at each field."),
        "reportsTitle": ("自課の報告", "Our reports"),
        "noReports": ("報告はまだありません。", "No report yet."),
        "intakeID": ("受付番号", "Intake id"),
        "reportTitle": ("報告", "Report"),
        "caseState": ("事案の状態", "Case state"),
        "notYetCase": ("事案化を待っています", "Waiting to become a case"),
        "q_personalData": ("個人情報が含まれますか", "Is personal data involved?"),
        "q_myNumber": ("マイナンバー (特定個人情報) が含まれますか", "Is My Number data involved?"),
        "q_sensitivePersonalData": ("要配慮個人情報が含まれますか", "Is sensitive personal data involved?"),
        "q_wrongfulIntent": ("不正の目的によるものですか", "Was it done with wrongful intent?"),
        "q_unspecifiedViewers": ("不特定多数が閲覧できる状態でしたか", "Could an unspecified number of people see it?"),
        "q_dataEncrypted": ("データは高度に暗号化されていましたか", "Was the data strongly encrypted?"),

        "reportDescription": ("内容 (個人番号は書かないでください。書かれていても自動でマスクされます)", "Description (do not write My Numbers; any written are masked)"),
        // Intake's violation codes (Shared/Contracts/ViolationCode.swift), for the report form.
        "err_required": ("入力してください。", "Required."),
        "err_type": ("形式が正しくありません。", "Not the right kind of value."),
        "err_enum": ("選択肢から選んでください。", "Choose one of the options."),
        "err_const": ("値が正しくありません。", "Not an accepted value."),
        "err_format": ("形式が正しくありません (日時は年月日と時刻)。", "Not in the expected format (a date and time)."),
        "err_minLength": ("入力してください。", "Too short."),
        "err_maxLength": ("長すぎます。", "Too long."),
        "err_minimum": ("小さすぎます (0 以上)。", "Too small (0 or more)."),
        "err_maximum": ("大きすぎます。", "Too large."),
        "err_pattern": ("使えない文字が含まれています。", "Contains characters that are not allowed."),
        "err_maxItems": ("多すぎます。", "Too many."),
        "err_anyOf": ("名称か資産番号を入力してください。", "Give a name or an asset id."),
        "err_oneOf": ("数を入力するか、空欄 (不明) にしてください。", "Give a number, or leave it empty (unknown)."),
        "err_future": ("未来の日時は入力できません。", "May not be in the future."),
        "err_order": ("日時の前後関係が正しくありません (発生 ≤ 検知、発生 ≤ 認知)。", "The times are out of order (occurred ≤ detected, occurred ≤ known)."),
        "err_unknownSection": ("所属課が組織に登録されていません。", "Your section is not in the directory."),
        "err_forbidden": ("この課の報告はできません。", "You may not report for this section."),
        "err_conflict": ("同じ報告番号で内容の異なる報告が既にあります。フォームを開き直してください。", "A different report with the same id exists; open the form again."),
        "err_tooLarge": ("内容が長すぎます (64 KiB まで)。", "The description is too long (64 KiB at most)."),
        "err_personalData": ("個人番号と思われる値は相関キーに使えません。", "A correlation key cannot hold what looks like a My Number."),

        // Officers and operators
        "decisionsTitle": ("決裁待ち", "Decisions waiting for you"),
        "noDecisions": ("決裁待ちはありません。", "Nothing waits for your decision."),
        "restrictionToApprove": ("利用制限の承認", "Use restriction to approve"),
        "findingToApprove": ("指摘事項の対応の承認", "Finding treatment to approve"),
        "findingWaiting": ("指摘事項の対応 (部の管理責任者の承認待ち)", "Finding treatment (awaiting the department officer)"),
        "approveTreatment": ("対応を承認", "Approve the treatment"),
        "returnTreatment": ("差し戻す", "Return it"),
        "comment": ("コメント", "Comment"),
        "signInsTitle": ("ログイン記録", "Sign-in log"),
        "who": ("職員", "Person"),
        "fromWhere": ("接続元", "From"),
        "event": ("事象", "Event"),
        "operationsTitle": ("運用状況", "Operations"),
        "queues": ("キュー", "Queues"),
        "queueName": ("キュー", "Queue"),
        "ready": ("待機", "Ready"),
        "unacked": ("処理中", "Unacked"),
        "consumers": ("コンシューマ", "Consumers"),
        "deadLetters": ("デッドレター", "Dead letters"),
        "services": ("サービス", "Services"),
        "readiness": ("準備完了", "Ready"),
        "managementDown": ("RabbitMQ 管理APIに接続できません。", "RabbitMQ's management API did not answer."),

        // Enumerations
        "state_reported": ("報告受付", "reported"),
        "state_triaged": ("判定済み", "triaged"),
        "state_acknowledged": ("確認済み", "acknowledged"),
        "state_investigating": ("調査中", "investigating"),
        "state_contained": ("封じ込め済み", "contained"),
        "state_recovered": ("復旧済み", "recovered"),
        "state_closed": ("終結", "closed"),
        "state_discarded": ("対象外", "discarded"),
        "state_reopened": ("再開", "reopened"),
        "state_merged": ("統合済み", "merged"),
        "action_confirm": ("インシデントと判定", "Confirm"),
        "action_discard": ("対象外とする", "Discard"),
        "action_acknowledge": ("確認", "Acknowledge"),
        "action_investigate": ("調査開始", "Start investigating"),
        "action_contain": ("封じ込め完了", "Contained"),
        "action_recover": ("復旧完了", "Recovered"),
        "action_close": ("終結", "Close"),
        "action_reopen": ("再開 (理由必須)", "Reopen (reason required)"),
        "cat_malware": ("マルウェア", "malware"),
        "cat_unauthorised-access": ("不正アクセス", "unauthorised access"),
        "cat_loss-or-theft": ("紛失・盗難", "loss or theft"),
        "cat_misdelivery": ("誤送付", "misdelivery"),
        "cat_data-leak": ("情報漏えい", "data leak"),
        "cat_system-outage": ("システム障害", "system outage"),
        "cat_policy-violation": ("規程違反", "policy violation"),
        "cat_contractor-violation": ("委託先の違反", "contractor violation"),
        "cat_other": ("その他", "other"),
        "verdict_yes": ("はい", "yes"),
        "verdict_no": ("いいえ", "no"),
        "verdict_unknown": ("不明", "unknown"),
        "restriction_awaiting-approval": ("承認待ち", "awaiting approval"),
        "restriction_in-force": ("実施中", "in force"),
        "restriction_rejected": ("却下", "rejected"),
        "restriction_lifted": ("解除済み", "lifted"),
        "kind_asset": ("情報資産", "asset"),
        "kind_system": ("システム", "system"),
        "kind_account": ("アカウント", "account"),
        "obligation_required": ("要提出", "required"),
        "obligation_to-decide": ("要判断", "to decide"),
        "obligation_not-required": ("不要", "not required"),
        "obligation_filed": ("提出済み", "filed"),
        "ob_preliminary-report": ("速報", "preliminary report"),
        "ob_final-report": ("確報", "final report"),
        "ob_notice-to-persons": ("本人への通知", "notice to the persons"),
        "event_enrolled": ("登録", "enrolled"),
        "event_signed-in": ("ログイン", "signed in"),
        "event_failed": ("失敗", "failed"),
        "event_locked-out": ("ロック", "locked out"),
        "event_refused-locked": ("ロック中の拒否", "refused (locked)"),
        "event_signed-out": ("ログアウト", "signed out"),
        "verdictName_personalData": ("個人情報", "personal data"),
        "verdictName_myNumber": ("マイナンバー", "My Number"),
        "verdictName_sensitiveData": ("要配慮個人情報", "sensitive data"),
        "verdictName_propertyDamage": ("財産的被害", "property damage"),
        "verdictName_wrongfulIntent": ("不正の目的", "wrongful intent"),
        "verdictName_unspecifiedViewers": ("不特定多数の閲覧", "unspecified viewers"),
        "verdictName_moreThan100Persons": ("100人超", "more than 100 persons"),
        "verdictName_strongEncryption": ("高度な暗号化", "strong encryption"),
    ]
}

extension Labels {
    /// How far a case's escalation went: the role of the highest chain level told
    /// (`DirectoryRole.escalationChain`), or "none".
    public static func escalationLevel(_ level: Int, _ language: ConsoleLanguage) -> String {
        let chain = DirectoryRole.escalationChain
        guard chain.indices.contains(level) else { return text("none", language) }
        return roleName(chain[level], language)
    }

    /// A role's name: the guideline's Japanese term, or its English rendering.
    public static func roleName(_ role: DirectoryRole, _ language: ConsoleLanguage) -> String {
        guard language == .en else { return role.japaneseName }
        return switch role {
        case .ciso: "CISO"
        case .cisoAdvisor: "CISO advisor"
        case .auditChief: "Audit chief"
        case .generalSecurityOfficer: "General security officer"
        case .generalSystemAdministrator: "General system administrator"
        case .generalSecurityManager: "General security manager"
        case .departmentSecurityOfficer: "Department security officer"
        case .sectionSecurityOfficer: "Section security officer"
        case .sectionSecurityStaff: "Section security staff"
        case .designatedHandler: "Designated handler"
        case .securityCommittee: "Security committee"
        case .csirt: "CSIRT"
        case .itPromotionHQ: "IT promotion HQ"
        }
    }
}
